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


def _estimate_line(estimate) -> str:
    """One job's estimate as the plan shows it: the month's cost, and how it was reached."""
    record = estimate.as_dict()
    runs = record["runs_per_month"] if isinstance(record["runs_per_month"], int) else f"{record['runs_per_month']:.2f}"
    bound = ", an upper bound: max_runtime_seconds" if estimate.duration_is_upper_bound else ""
    return f"  estimated cost: {estimate.monthly_cost:.2f} {estimate.currency} a month ({runs} runs of {record['seconds_per_run']} s{bound})"


def render_plan(plan, cost=None) -> None:
    """The plan as a table; ``cost`` (:class:`StackCostEstimate`) adds each job's estimated monthly cost."""
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
        if cost is not None:
            estimate = cost.estimates.get(job)
            click.echo(_estimate_line(estimate) if estimate is not None else "  estimated cost: not available (see below)")
    tenant_level = [r for r in plan.resources if r.custom and not r.job]
    for r in tenant_level:
        click.echo(f"  + {r.type}  {r.name} (tenant-level)")
    total = sum(1 for r in plan.resources if r.custom)
    click.echo(f"\n{total} resources in {len(jobs)} jobs ({plan.seconds:.2f} s)")
    if cost is not None:
        click.echo(f"estimated cost: {cost.total:.2f} {cost.currency} a month for {len(cost.estimates)} jobs (dativo-infra cost; docs/cost.md)")
        for problem in cost.problems:
            click.echo(f"  not estimated: {problem.render()}")


class StackCostEstimate:
    """The estimate of a planned stack's jobs, by job name, from the same estimator as ``dativo-infra cost``."""

    def __init__(self, estimates, problems, currency: str):
        self.estimates = {e.job: e for e in estimates}
        self.problems = list(dict.fromkeys(problems))
        self.currency = currency

    @property
    def total(self):
        from ..cost import total

        return total(self.estimates.values())

    def as_dict(self) -> dict:
        from ..cost import json_number

        return {"currency": self.currency, "jobs": [e.as_dict() for _, e in sorted(self.estimates.items())],
                "total": json_number(self.total), "errors": [p.as_dict() for p in self.problems]}


def estimate_stack(project, tenant: str, environment: str, prices, variables, assets_dir) -> StackCostEstimate:
    """The stack's jobs estimated as ``cost --tenant T --environment E`` estimates them; a price missing for a job is a problem
    listed with the estimate, never a failed plan (the plan does not depend on prices)."""
    from ..cost import load_prices
    from ..errors import DativoError
    from .cost import estimate_roots

    try:
        book = load_prices(prices)
    except DativoError as exc:
        return StackCostEstimate([], exc.problems, "USD")
    estimates, problems = estimate_roots(project, [project.jobs_dir], book, None, tenant=tenant, environment=environment,
                                         variables=variables, assets_dir=assets_dir, parallel=1)
    return StackCostEstimate(estimates, problems, book.currency)


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
@click.option("--cost", "with_cost", is_flag=True, help="One stack: add each job's estimated monthly cost (the cost --json job records) to the "
                                                        "--json output as \"cost\" (the table always shows it).")
@click.option("--prices", default=None, type=click.Path(dir_okay=False), help="One stack: a price file over the shipped tables for the estimate "
                                                                              "(as cost --prices; implies --cost).")
def plan(tenant, environment, all_stacks, parallel, jobs_dir, assets_dir, image, variables, project_dir, policy, as_json, coverage, output_dir,
         with_cost, prices):
    """Plan tenant stacks offline: the real program under Pulumi's mock runtime.

    One stack with --tenant and --environment; every stack of the jobs folder
    with --all (each in its own process, --parallel at a time; exit 1 if any failed).
    """
    check_selection(tenant, environment, all_stacks)
    require_pulumi_sdks(as_json)
    if output_dir and not all_stacks:
        raise click.UsageError("--output-dir goes with --all; one stack's plan is printed (--json for the same shape)")
    if all_stacks and (with_cost or prices):
        raise click.UsageError("--cost and --prices go with one stack (--tenant/--environment); for every stack: dativo-infra cost --all")
    if output_dir:
        writable_folder(output_dir, as_json)
    if all_stacks:
        run_all("plan", jobs_dir=jobs_dir, assets_dir=assets_dir, image=image, variables=parse_vars(variables), tenant=tenant,
                environment=environment, parallel=parallel, as_json=as_json, output_dir=output_dir, notice=NOTICE, project_dir=project_dir,
                policy=policy, coverage=coverage)
        return
    project = make_project(project_dir, image=image, jobs_dir=jobs_dir, assets_dir=assets_dir, variables=variables, policy=policy)
    context = stack_context(project, tenant, environment, as_json)
    from ..sdk_loader import install

    install()  # before the SDKs load: this process only plans
    from ..plan import StackError, gc_paused, plan_stack

    try:
        with gc_paused():
            result = plan_stack(context)
    except StackError as exc:
        fail(exc.problems, as_json, EXIT_INVALID, {"tenant": tenant, "environment": environment})
        return
    record = None
    if coverage:
        from ..policy import coverage as coverage_of
        from ..policy import load_policy

        record = coverage_of(result, load_policy(context.policy) if context.policy else None, scopes=result.scopes)
    cost = estimate_stack(project, tenant, environment, prices, variables, assets_dir) if with_cost or prices or not as_json else None
    if as_json:
        extra = {"coverage": record["coverage"], "coverage_resources": record["resources"], "coverage_policy": record["policy"]} if record else {}
        emit_json({**result.as_dict(), **extra, **({"cost": cost.as_dict()} if cost is not None else {}), "notice": NOTICE})
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning['line']}", err=True)
    render_plan(result, cost)
    if record is not None:
        from ..policy import render_coverage

        click.echo("\n" + render_coverage(record))
