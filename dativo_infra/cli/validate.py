"""``dativo-infra validate PATH...``"""
from __future__ import annotations

import sys

import click

from .common import EXIT_INVALID, emit_json, job_options, parse_vars


def _describe(job) -> str:
    infra = job.infrastructure
    if infra is None:
        return f"tenant {job.tenant}, {job.environment}: no infrastructure block, nothing to provision"
    return f"tenant {job.tenant}, {job.environment}: {infra.provider}/{job.runtime}, {len(job.tag_sets[infra.provider].tags)} tags"


def _tenant_summary(jobs) -> None:
    by_tenant: dict[tuple[str, str], list] = {}
    for job in jobs:
        by_tenant.setdefault((job.tenant, job.environment), []).append(job)
    if by_tenant:
        click.echo("")
    for (tenant, env), group in sorted(by_tenant.items()):
        kinds: dict[str, int] = {}
        for job in group:
            kind = f"{job.infrastructure.provider}/{job.runtime}" if job.infrastructure else "no infrastructure"
            kinds[kind] = kinds.get(kind, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"tenant {tenant} ({env}): {len(group)} jobs: {detail}")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@job_options
@click.option("--tenant", default=None, help="Load shared ${TENANT_ID} files for this tenant only.")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per file.")
def validate(paths, assets_dir, variables, tenant, as_json):
    """Validate job files (files or folders, recursively); exit 2 if any is invalid."""
    from ..jobs import load_jobs  # the models load pydantic: only when a command needs them, not for --help

    result = load_jobs(paths, tenant=tenant, variables=parse_vars(variables), assets_dir=assets_dir)
    if as_json:
        emit_json([
            {
                "path": f.path,
                "ok": f.ok,
                "jobs": [{"tenant": j.tenant, "environment": j.environment, "job": j.name,
                          "provider": j.infrastructure.provider if j.infrastructure else None, "runtime": j.runtime} for j in f.jobs],
                "errors": [{k: v for k, v in p.as_dict().items() if k != "file"} | {"file": p.file} for p in f.problems],
            }
            for f in result.files
        ])
    else:
        for f in result.files:
            if f.ok:
                for job in f.jobs:
                    click.echo(f"ok   {f.path}: {_describe(job)}")
            else:
                for p in f.problems:
                    click.echo(p.render())
        _tenant_summary(result.jobs)
        bad = sum(1 for f in result.files if not f.ok)
        click.echo(f"{len(result.files)} files, {len(result.jobs)} jobs valid, {bad} files with errors", err=True)
    if not result.files:
        click.echo("no job files found (looked for *.yaml and *.yml)", err=True)
        sys.exit(EXIT_INVALID)
    if not result.ok:
        sys.exit(EXIT_INVALID)
