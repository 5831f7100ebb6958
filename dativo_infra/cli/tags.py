"""``dativo-infra tags JOB`` and ``dativo-infra tags activation --provider aws|gcp|azure``"""
from __future__ import annotations

import click

from ..errors import DativoError, Problem
from ..tags import CLOUDS
from .common import emit_json, fail, job_options, make_project, parse_vars, print_warnings


@click.command()
@click.argument("job_file", type=click.Path())
@job_options
@click.option("--tenant", default=None, help="Tenant for a shared ${TENANT_ID} job file.")
@click.option("--provider", type=click.Choice(CLOUDS), default=None, help="Format for this cloud (default: the job's provider).")
@click.option("--explain", is_flag=True, help="Show where each tag came from and what it overrode.")
@click.option("--jobs-dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="With activation: the fleet's jobs folder (default: the stack config's dativo-infra:jobsDir, else jobs).")
@click.option("--json", "as_json", is_flag=True, help="Print {provider, tags, provenance} as JSON.")
def tags(job_file, project_dir, policy, image, assets_dir, variables, tenant, provider, explain, jobs_dir, as_json):
    """Show a job's final, merged tags formatted for its cloud (as its stack's resources get them).

    `tags activation --provider aws|gcp|azure` instead lists the tag keys the whole fleet
    (every job under --jobs-dir) puts on that cloud's resources, and what makes them count in
    that cloud's billing data: for AWS the Cost Explorer activation requests.
    """
    if job_file == "activation":
        _activation(provider, jobs_dir, project_dir, policy, image, assets_dir, variables, as_json)
        return
    from ..jobs import load_job  # the models load pydantic: only when a command needs them, not for --help
    from ..resolve import Resolver
    from ..tags import tag_set

    resolver = Resolver(make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy))
    try:
        job = load_job(job_file, tenant=tenant, variables=parse_vars(variables), assets_dir=assets_dir, scope=resolver.scope([job_file]))
        if job.infrastructure is None and provider is None:
            raise DativoError([Problem(job.path, "job has no infrastructure block, so no provider; pass --provider to see its tags for a cloud")])
        resolved = resolver(job) if job.infrastructure is not None else None
        cloud = provider or job.infrastructure.provider  # type: ignore[union-attr]
        result = resolved.tag_sets[cloud] if resolved and cloud in resolved.tag_sets else tag_set(job, cloud)
    except DativoError as exc:
        fail(exc.problems, as_json)
        return
    warnings = resolved.warnings if resolved else ()
    if as_json:
        emit_json({"provider": cloud, "tags": result.tags, "provenance": {k: p.as_dict() for k, p in result.provenance.items()},
                   **({"warnings": [w.as_dict() for w in warnings]} if warnings else {})})
        return
    print_warnings(warnings)
    width = max((len(k) for k in result.tags), default=0)
    for key, value in result.tags.items():
        line = f"{key.ljust(width)} = {value}"
        if explain:
            prov = result.provenance[key]
            line += f"    [{prov.level}: {prov.source}]"
            for old in prov.overrode:
                line += f" overrode {old.level} {old.key}={old.value!r}"
        click.echo(line)
    click.echo(f"{len(result.tags)} {cloud} tags for {job.name} ({job.tenant}/{job.environment})", err=True)


def _activation(provider, jobs_dir, project_dir, policy, image, assets_dir, variables, as_json) -> None:
    from ..jobs import load_jobs
    from ..policy import PROVIDERS, activation, render_activation
    from ..resolve import Resolver
    from .fleet import jobs_folder

    if provider not in PROVIDERS:
        raise click.UsageError(f"tags activation needs --provider {'|'.join(PROVIDERS)}")
    project = make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy)
    resolver = Resolver(project)
    folder = jobs_folder(project, jobs_dir)
    loaded = load_jobs([folder], variables=parse_vars(variables), assets_dir=assets_dir, scope=resolver.scope([folder]))
    problems = list(loaded.problems)
    keys: dict[str, set[str]] = {}
    for job in loaded.jobs:
        if job.infrastructure is None:
            continue
        try:
            resolved = resolver(job)
        except DativoError as exc:
            problems.extend(exc.problems)
            continue
        for cloud, tag_set in resolved.tag_sets.items():
            keys.setdefault(cloud, set()).update(tag_set.tags)
    if problems:  # keys from a fleet that does not validate would be a guess
        fail(problems, as_json)
    result = activation(keys, provider)
    if as_json:
        emit_json(result)
    else:
        click.echo(render_activation(result))
