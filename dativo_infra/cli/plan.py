"""``dativo-infra plan``: the offline plan of one tenant stack, or of every stack (``--all``)."""
from __future__ import annotations

import click

from .common import EXIT_INVALID, emit_json, fail, make_project, parse_vars, require_pulumi_sdks
from .fleet import check_selection, run_all, selection_options, stack_context

NOTICE = "This is a plan of inputs (what the program would ask the cloud for), not a diff against the cloud. IDs and ARNs are placeholders."

# recorded inputs carry the providers' wire names (camelCase)
KEY_INPUTS = ("name", "family", "bucket", "cpu", "memory", "scheduleExpression", "scheduleExpressionTimezone", "cidrIpv4",
              "fromPort", "toPort", "retentionInDays", "location", "role", "policyArn")


def _summary(inputs: dict) -> str:
    parts = [f"{k}={inputs[k]}" for k in KEY_INPUTS if k in inputs and isinstance(inputs[k], (str, int, float))]
    meta = inputs.get("metadata")
    if isinstance(meta, dict) and "name" in meta:
        parts.insert(0, f"name={meta['name']}")
    return ", ".join(parts)


def render_plan(plan) -> None:
    click.echo(f"Plan for tenant {plan.tenant}, environment {plan.environment} (stack {plan.tenant}-{plan.environment})")
    click.echo(NOTICE)
    jobs = sorted({r.job for r in plan.resources if r.job})
    for job in jobs:
        resources = [r for r in plan.for_job(job) if r.custom]
        click.echo(f"\njob {job}: {len(resources)} resources")
        for r in resources:
            flags = "".join(f" [{f}]" for f, on in (("protected", r.protect), ("retained", r.retain_on_delete)) if on)
            click.echo(f"  + {r.type}  {r.name}{flags}")
            summary = _summary(r.inputs)
            if summary:
                click.echo(f"      {summary}")
        tags = plan.outputs.get(job, {}).get("tags", {})
        click.echo(f"  tags ({len(tags)}): " + ", ".join(f"{k}={v}" for k, v in tags.items()))
    tenant_level = [r for r in plan.resources if r.custom and not r.job]
    for r in tenant_level:
        click.echo(f"  + {r.type}  {r.name} (tenant-level)")
    total = sum(1 for r in plan.resources if r.custom)
    click.echo(f"\n{total} resources in {len(jobs)} jobs ({plan.seconds:.2f} s)")


def writable_folder(folder: str, as_json: bool) -> None:
    """Check before planning: a folder that cannot be written would fail every stack only after all of them ran."""
    import os
    import tempfile

    from ..errors import Problem

    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        fail([Problem(folder, f"cannot write plans here: {exc.strerror or exc}")], as_json, EXIT_INVALID)


@click.command()
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print {tenant, environment, resources, outputs} as JSON (with --all: one record per stack).")
@click.option("--coverage", is_flag=True, help="Also report, per stack (and for the fleet with --all), which resources carry the required tags "
                                               "(the policy's, else the default keys) and which cannot carry tags, with the parent their cost rolls up to.")
@click.option("--output-dir", default=None, type=click.Path(file_okay=False),
              help="With --all: also write each stack's full plan (the --json shape) to DIR/<tenant>-<environment>.json.")
def plan(tenant, environment, all_stacks, parallel, jobs_dir, assets_dir, image, variables, project_dir, policy, as_json, coverage, output_dir):
    """Plan tenant stacks offline: the real program under Pulumi's mock runtime.

    One stack with --tenant and --environment; every stack of the jobs folder
    with --all (each in its own process, --parallel at a time; exit 1 if any failed).
    """
    check_selection(tenant, environment, all_stacks)
    require_pulumi_sdks(as_json)
    if output_dir and not all_stacks:
        raise click.UsageError("--output-dir goes with --all; one stack's plan is printed (--json for the same shape)")
    if output_dir:
        writable_folder(output_dir, as_json)
    if all_stacks:
        run_all("plan", jobs_dir=jobs_dir, assets_dir=assets_dir, image=image, variables=parse_vars(variables), tenant=tenant,
                environment=environment, parallel=parallel, as_json=as_json, output_dir=output_dir, notice=NOTICE, project_dir=project_dir,
                policy=policy, coverage=coverage)
        return
    context = stack_context(make_project(project_dir, image=image, jobs_dir=jobs_dir, assets_dir=assets_dir, variables=variables, policy=policy),
                            tenant, environment, as_json)
    from ..plan import StackError, plan_stack

    try:
        result = plan_stack(context)
    except StackError as exc:
        fail(exc.problems, as_json, EXIT_INVALID, {"tenant": tenant, "environment": environment})
        return
    record = None
    if coverage:
        from ..policy import coverage as coverage_of
        from ..policy import load_policy

        record = coverage_of(result, load_policy(context.policy) if context.policy else None, scopes=result.scopes)
    if as_json:
        extra = {"coverage": record["coverage"], "coverage_resources": record["resources"], "coverage_policy": record["policy"]} if record else {}
        emit_json({**result.as_dict(), **extra, "notice": NOTICE})
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning['line']}", err=True)
    render_plan(result)
    if record is not None:
        from ..policy import render_coverage

        click.echo("\n" + render_coverage(record))
