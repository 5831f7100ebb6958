"""``dativo-infra validate PATH...``"""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import DativoError, Problem
from .common import EXIT_FAILED, EXIT_INVALID, emit_json, fail, job_options, make_project, parse_vars


def summarize(resolver):
    """What `validate` reports of a job, resolved in its stack; computed where the job was built (maybe a worker process).

    A job that cannot be resolved (a tag over a limit, no region anywhere) gives its problems instead.
    """
    def summary(job) -> dict | list[Problem]:
        infra = job.infrastructure
        tags, warnings = 0, []
        if infra is not None:
            try:
                resolved = resolver(job)
            except DativoError as exc:
                return exc.problems
            tags, warnings = len(resolved.provider_tags.tags), [f.as_dict() | {"line": f.render()} for f in resolved.warnings]
        return {"tenant": job.tenant, "environment": job.environment, "job": job.name,
                "provider": infra.provider if infra else None, "runtime": job.runtime, "tags": tags, "warnings": warnings}

    return summary


def _describe(job: dict) -> str:
    if job["provider"] is None:
        return f"tenant {job['tenant']}, {job['environment']}: no infrastructure block, nothing to provision"
    return f"tenant {job['tenant']}, {job['environment']}: {job['provider']}/{job['runtime']}, {job['tags']} tags"


def _tenant_summary(jobs: list[dict]) -> None:
    by_tenant: dict[tuple[str, str], list] = {}
    for job in jobs:
        by_tenant.setdefault((job["tenant"], job["environment"]), []).append(job)
    if by_tenant:
        click.echo("")
    for (tenant, env), group in sorted(by_tenant.items()):
        kinds: dict[str, int] = {}
        for job in group:
            kind = f"{job['provider']}/{job['runtime']}" if job["provider"] else "no infrastructure"
            kinds[kind] = kinds.get(kind, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"tenant {tenant} ({env}): {len(group)} jobs: {detail}")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@job_options
@click.option("--tenant", default=None, help="Load shared ${TENANT_ID} files for this tenant only.")
@click.option("--parallel", type=click.IntRange(min=1), default=None,
              help="Processes to use (default: from 200 files on, one per 100 files, at most one per CPU; 1 = this process only).")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per file.")
def validate(paths, project_dir, policy, image, assets_dir, variables, tenant, parallel, as_json):
    """Validate job files (files or folders, recursively), each in its stack's settings; exit 2 if any is invalid."""
    from ..jobs.parallel import WorkerError, load_and_apply  # the models load pydantic: only when a command needs them, not for --help
    from ..resolve import Resolver

    resolver = Resolver(make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy))
    try:
        result, outcomes, _ = load_and_apply(paths, summarize(resolver), lambda s: s, workers=parallel, tenant=tenant,
                                             variables=parse_vars(variables), assets_dir=assets_dir, scope=resolver.scope(paths))
    except WorkerError as exc:
        fail([Problem(", ".join(paths), str(exc))], as_json, code=EXIT_FAILED)
    rest = iter(outcomes)  # one per job, in the order of the files' jobs
    per_file = []
    for f in result.files:
        jobs = []
        for outcome in (next(rest) for _ in f.jobs):
            if isinstance(outcome, dict):
                jobs.append(outcome)
            else:
                f.problems.extend(p for p in outcome if p not in f.problems)
        per_file.append((f, jobs))
    summaries = [j for _, jobs in per_file for j in jobs]
    if as_json:
        records: list[dict[str, Any]] = [
            {
                "path": f.path,
                "ok": f.ok,
                "jobs": [{k: (v if k != "warnings" else [{x: y for x, y in w.items() if x != "line"} for w in v])
                          for k, v in j.items() if k != "tags"} for j in jobs],
                "errors": [{k: v for k, v in p.as_dict().items() if k != "file"} | {"file": p.file} for p in f.problems],
            }
            for f, jobs in per_file
        ]
        # the one failure shape of every command ({"ok": false, "errors": [...]}), with each file's record beside it
        errors = list({json.dumps(e, sort_keys=True): e for r in records for e in r["errors"]}.values())  # each problem once
        emit_json({"ok": result.ok and bool(result.files), "errors": errors, "files": records})
    else:
        for job in summaries:
            for warning in job["warnings"]:
                click.echo(f"warning: {warning['line']}", err=True)
        printed: set[str] = set()  # a stack file's problem reaches every job of that stack: say it once
        for f, jobs in per_file:
            if f.ok:
                for job in jobs:
                    click.echo(f"ok   {f.path}: {_describe(job)}")
            else:
                for p in f.problems:
                    line = p.render()
                    if line not in printed:
                        printed.add(line)
                        click.echo(line)
        _tenant_summary(summaries)
        bad = sum(1 for f in result.files if not f.ok)
        click.echo(f"{len(result.files)} files, {len(summaries)} jobs valid, {bad} files with errors", err=True)
    if not result.files:
        click.echo("no job files found (looked for *.yaml and *.yml)", err=True)
        sys.exit(EXIT_INVALID)
    if not result.ok:
        sys.exit(EXIT_INVALID)
