"""``dativo-infra terraform export`` and ``dativo-infra terraform scaffold``"""
from __future__ import annotations

import os
import re
import sys
from typing import Optional

import click

from ..errors import DativoError, Problem
from .common import EXIT_FAILED, EXIT_INVALID, emit_json, fail, job_options, make_project, parse_vars, print_warnings


@click.group()
def terraform():
    """Terraform compatibility: export the same variables the Pulumi program uses."""


@terraform.command("export")
@click.option("--config", "config", type=click.Path(), default=None, help="One job file.")
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True), default=None, help="Where to write its variables (with --config); - for standard output.")
@click.option("--all", "tree", type=click.Path(), default=None, help="Export every job under this folder.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None, help="With --all: one file per job under <dir>/<tenant>/<environment>/.")
@click.option("--format", "fmt", type=click.Choice(["hcl", "json"]), default=None, help="hcl (.tfvars) or json (.tfvars.json); default from --output's suffix, else hcl.")
@click.option("--backend-config", type=click.Path(dir_okay=False), default=None, help="Also write terraform.backend_config here (for terraform init -backend-config=FILE).")
@click.option("--tenant", default=None, help="Tenant for shared ${TENANT_ID} job files.")
@click.option("--parallel", type=click.IntRange(min=1), default=None,
              help="With --all: processes to use (default: from 200 files on, one per 100 files, at most one per CPU; 1 = this process only).")
@click.option("--clean", is_flag=True, help="With --all: delete the exported files under --output-dir that this export did not write "
                                             "(jobs removed, renamed or now invalid).")
@click.option("--module-source-base", "source_base", default=None, help="Where the header says the modules come from (as for scaffold).")
@click.option("--json", "as_json", is_flag=True, help="Report what was written as JSON.")
@job_options
def export(config, output, tree, output_dir, fmt, backend_config, tenant, parallel, clean, source_base, as_json, project_dir, policy, image, assets_dir,
           variables):
    """Write .tfvars / .tfvars.json for one job (--config) or a whole tree (--all), each in its stack's settings."""
    from terraform_compat import export_job, export_tree, remove_stale
    from terraform_compat.exporter import prepare_export, regular_file

    from ..jobs import load_job  # the models load pydantic: only when a command needs them
    from ..jobs.parallel import WorkerError
    from ..resolve import Resolver

    values = parse_vars(variables)
    resolver = Resolver(make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy))
    if bool(config) == bool(tree):
        raise click.UsageError("give either --config JOB --output FILE, or --all DIR --output-dir DIR")
    check_source_base(source_base)
    if config:
        if not output:
            raise click.UsageError("--config needs --output FILE (or - for standard output)")
        if parallel is not None or clean:
            raise click.UsageError("--parallel and --clean go with --all")
        fmt = fmt or ("json" if output.endswith(".json") else "hcl")
        if output == "-" and (backend_config or as_json):
            raise click.UsageError("--output - prints the variables alone: write them to a file to use --backend-config or --json")
        if output.endswith(".tfvars" if fmt == "json" else ".json"):  # terraform reads .tfvars as HCL, .json as JSON
            raise click.UsageError(f"--format {fmt} does not match {output}: Terraform reads .tfvars as HCL and .tfvars.json as JSON")
        try:
            job = load_job(config, tenant=tenant, variables=values, assets_dir=assets_dir, scope=resolver.scope([config]))
            if job.infrastructure is None:
                raise DativoError([Problem(job.path, "job has no infrastructure block: there is nothing to export")])
            resolved = resolver(job)
            print_warnings(resolved.warnings)
            if output == "-":
                click.echo(prepare_export(resolved, output, fmt, None, source_base).text, nl=False)  # checked and rendered as for a file
                return
            target, backend_target = regular_file(output), backend_config and regular_file(backend_config)
            if backend_target and backend_target == target:
                raise DativoError([Problem(backend_config, "is the --output file too: one would overwrite the other")])
            result = export_job(resolved, target, fmt, backend_target, source_base)
            result.output, result.backend = output, backend_config  # report the paths as given, not where links lead
        except DativoError as exc:
            fail(exc.problems, as_json)
            return
        if as_json:
            emit_json({"ok": True, "exported": [result.as_dict()], "skipped": [], "errors": []})
        else:
            click.echo(f"wrote {output}" + (f" and {backend_config}" if backend_config else ""))
        return

    if not output_dir:
        raise click.UsageError("--all needs --output-dir DIR")
    if backend_config:
        raise click.UsageError("--backend-config goes with --config; with --all every job's backend file is written next to its variables")
    fmt = fmt or "hcl"
    try:
        done = export_tree([tree], output_dir, fmt, resolver=resolver, tenant=tenant, variables=values, assets_dir=assets_dir, parallel=parallel,
                           source_base=source_base)
    except WorkerError as exc:
        fail([Problem(tree, str(exc))], as_json, code=EXIT_FAILED)
        return
    if not done.files:  # as `validate`: an empty tree is a mistake (wrong folder), not a success
        fail([Problem(tree, "no job files found (looked for *.yaml and *.yml)")], as_json)
    exported, skipped, problems = done.exported, done.skipped, done.problems
    # what could not be read, or a broken stack file (every job of that stack fails with it), may have exported before:
    # deleting those files would lose them
    unsafe = bool(done.unreadable) or any(os.path.basename(p.file).startswith("Pulumi.") for p in problems)
    if clean and unsafe:
        problems = problems + [Problem(output_dir, "--clean deleted nothing: some job files or folders could not be read, "
                                                   "or a stack file is broken")]
    removed = remove_stale(output_dir, exported) if clean and not unsafe else []
    if as_json:
        emit_json({"ok": not problems, "exported": [r.as_dict() for r in exported], "skipped": skipped, "errors": [p.as_dict() for p in problems],
                   "processes": done.workers, **({"removed": removed} if clean else {})})
    else:
        print_warnings(w["line"] for r in exported for w in r.warnings)
        for r in exported:
            click.echo(f"wrote {r.output}" + (f" (+ {r.backend})" if r.backend else ""))
        for path in removed:
            click.echo(f"removed {path}")
        for s in skipped:
            click.echo(f"skipped {s['path']}: {s['reason']}", err=True)
        for line in dict.fromkeys(p.render() for p in problems):  # a stack file's problem reaches every job: once
            click.echo(line, err=True)
        click.echo(f"{len(exported)} exported, {len(skipped)} skipped, {len({p.file for p in problems})} files with errors"
                   + (f", {len(removed)} stale files removed" if clean else ""), err=True)
    if problems:
        sys.exit(EXIT_INVALID)


def check_source_base(source_base: Optional[str]) -> None:
    """A module source is written into HCL: no spaces, quotes, backslashes, template characters, braces or control characters."""
    if source_base is not None and not (re.fullmatch(r"[^\s\"\\$%{}]+", source_base) and source_base.isprintable()):
        raise click.UsageError("--module-source-base takes an address without spaces, quotes, backslashes, $, %, braces or control characters")


SOURCE_BASE_HELP = ("Where the modules come from: a git URL (git::https://host/repo.git; sources pinned with ?ref=vVERSION), a registry "
                    "address HOST/NAMESPACE/NAME/PROVIDER of the family's package (version = VERSION), or a local folder ./ ../ /. "
                    "Default: terraform_compat/versions.json's module_source_base.")


@terraform.command("scaffold")
@click.option("--config", "config", type=click.Path(), default=None, help="One job file.")
@click.option("--all", "tree", type=click.Path(), default=None, help="Every job under this folder.")
@click.option("--output-dir", required=True, type=click.Path(file_okay=False), help="One root configuration per job under <dir>/<tenant>/<environment>/<job>/.")
@click.option("--module-source-base", "source_base", default=None, help=SOURCE_BASE_HELP)
@click.option("--force", is_flag=True, help="Replace files edited since dativo-infra wrote them (they are kept, and named, without it).")
@click.option("--tenant", default=None, help="Tenant for shared ${TENANT_ID} job files.")
@click.option("--json", "as_json", is_flag=True, help="Report what was written as JSON.")
@job_options
def scaffold(config, tree, output_dir, source_base, force, tenant, as_json, project_dir, policy, image, assets_dir, variables):
    """Write a ready root configuration per job: main.tf (its modules at a pinned source), providers.tf, backend.tf, variables.tf, terraform.tfvars."""
    from terraform_compat.scaffold import Root, ScaffoldResult, build_root, write_root

    from ..jobs.parallel import load_and_apply
    from ..resolve import Resolver

    if bool(config) == bool(tree):
        raise click.UsageError("give either --config JOB or --all DIR (and --output-dir DIR)")
    check_source_base(source_base)
    values = parse_vars(variables)
    resolver = Resolver(make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy))

    def prepare(job):
        if job.infrastructure is None:
            return {"path": job.path, "reason": "no infrastructure block"}
        try:
            resolved = resolver(job)
            print_warnings(resolved.warnings)
            return build_root(resolved, source_base)
        except DativoError as exc:
            return exc.problems

    def apply(outcome):
        if not isinstance(outcome, Root):
            return outcome
        try:
            return write_root(outcome, output_dir, force)
        except DativoError as exc:
            return exc.problems

    paths = [config or tree]
    loaded, outcomes, _ = load_and_apply(paths, prepare, apply, workers=1, tenant=tenant, variables=values, assets_dir=assets_dir,
                                         scope=resolver.scope(paths))
    problems = list(loaded.problems)
    results = [o for o in outcomes if isinstance(o, ScaffoldResult)]
    skipped = [o for o in outcomes if isinstance(o, dict)]
    problems += [p for o in outcomes if isinstance(o, list) for p in o]
    if not loaded.files:
        problems.append(Problem(config or tree, "no job files found (looked for *.yaml and *.yml)"))
    if config and skipped:
        problems.append(Problem(config, "job has no infrastructure block: there is nothing to scaffold"))
    if as_json:
        emit_json({"ok": not problems, "roots": [r.as_dict() for r in results], "skipped": skipped, "errors": [p.as_dict() for p in problems]})
    else:
        for r in results:
            changed = f"wrote {', '.join(r.written)}" if r.written else "unchanged"
            click.echo(f"{r.directory}: {changed} ({' + '.join(r.modules)})")
            for name in r.kept:
                click.echo(f"kept {r.directory}/{name}: edited since dativo-infra wrote it (--force replaces it)", err=True)
            for line in r.warnings:
                click.echo(f"warning: {r.directory}: {line}", err=True)
        for s in skipped if tree else []:
            click.echo(f"skipped {s['path']}: {s['reason']}", err=True)
        for line in dict.fromkeys(p.render() for p in problems):
            click.echo(line, err=True)
    if problems:
        sys.exit(EXIT_INVALID)
