"""``dativo-infra cost``: each job's estimated monthly cost, rolled up; docs/cost.md is the user guide."""
from __future__ import annotations

import dataclasses
import re
import sys
from typing import Any, Optional

import click

from ..errors import DativoError, Problem
from .common import EXIT_FAILED, EXIT_INVALID, emit_json, fail, job_options, make_project, parse_vars

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_month(text: Optional[str]) -> Optional[tuple[int, int]]:
    """``YYYY-MM`` → (year, month); a problem for anything else."""
    if text is None:
        return None
    found = _MONTH.match(text)
    # up to 9998: a month's end (the next month's first day, in its time zone) must still be a date Python can hold
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 9998:
        raise DativoError([Problem("--month", f"{text!r} is not a month: write YYYY-MM (e.g. 2026-03), a year from 1900 to 9998 and a month 01-12",
                                   field="month")])
    return int(found.group(1)), int(found.group(2))


def estimator(resolver, book, month):
    """What each job becomes, where it was built (maybe a worker process): an estimate, its problems, or None (nothing to run)."""
    from ..cost import StackCost, estimate_job

    settings: dict[tuple[str, str], Any] = {}

    def estimate(job):
        if job.infrastructure is None:
            return None
        try:
            resolved = resolver(job)
            key = (job.tenant, job.environment)
            if key not in settings:
                settings[key] = StackCost.from_config(resolved.stack.config, resolved.stack.source)
            return estimate_job(resolved.variables, book, month=month, stack=settings[key], file=job.path)
        except DativoError as exc:
            return [_placed(p, job) for p in exc.problems]

    return estimate


def _placed(problem: Problem, job: Any) -> Problem:
    """An estimate's problem on the job file's line of its field (the region; else the infrastructure block), when the file was parsed here."""
    locator = getattr(job, "locator", None)
    if problem.line is not None or not problem.field.startswith("infrastructure.") or locator is None or problem.file != job.path:
        return problem
    line, col = locator.position(tuple(problem.field.split(".")))
    return dataclasses.replace(problem, line=line, col=col)


def _render_table(estimates, groups, grants, total, currency: str, month) -> None:
    from ..cost import money

    rows = [("TENANT", "ENVIRONMENT", "JOB", "RUNTIME", "REGION", "RUNS/MONTH", "S/RUN", f"{currency}/MONTH")]
    for e in estimates:
        record = e.as_dict()
        seconds = f"{record['seconds_per_run']}{' ≤' if e.duration_is_upper_bound else ''}"
        runs = str(record["runs_per_month"]) if isinstance(record["runs_per_month"], int) else f"{record['runs_per_month']:.2f}"
        rows.append((e.tenant, e.environment, e.job, f"{e.provider}/{e.runtime}", e.region or "-", runs, seconds,
                     f"{e.monthly_cost:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.rjust(w) if i >= 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    click.echo(f"\ntotal: {total:.2f} {currency} a month ({'month ' + f'{month[0]:04d}-{month[1]:02d}' if month else 'an average month'}, "
               f"{len(estimates)} job{'s' if len(estimates) != 1 else ''})")
    if any(e.duration_is_upper_bound for e in estimates):
        click.echo("≤: the duration is the job's max_runtime_seconds, so its cost is an upper bound")
    if groups:
        click.echo(f"\nby {groups[0].key}:")
        width = max(len(str(g.value)) for g in groups)
        for g in groups:
            click.echo(f"  {str(g.value if g.value is not None else '(not set)').ljust(width)}  {g.monthly_cost:>12.2f} {currency}  ({g.jobs} job{'s' if g.jobs != 1 else ''})")
    if grants:
        click.echo("\nfree grants (never subtracted above; each applies once per billing account or subscription):")
    for grant in grants:
        click.echo(f"  {grant.service}: {grant.quantity} {grant.unit} {grant.scope}; these jobs use {float(grant.used):,.1f}, "
                   f"worth up to {money(grant.value)} {currency} if they all share one")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--tenant", default=None, help="With --environment: that stack's jobs (with --all: only this tenant).")
@click.option("--environment", default=None, help="With --tenant: that stack's jobs (with --all: only this environment).")
@click.option("--all", "all_stacks", is_flag=True, help="Every job of the project's jobs folder (or of PATH...).")
@click.option("--month", default=None, metavar="YYYY-MM", help="Count the runs of this calendar month (in each job's time zone); "
                                                                  "default: an average month (docs/cost.md).")
@click.option("--by", default=None, metavar="KEY", help="Group totals by tenant, environment, cost-center, project, provider, runtime, region, "
                                                        "job, or any tag key (e.g. dativo:cost-center); default: tenant.")
@click.option("--prices", default=None, type=click.Path(dir_okay=False), help="A price file (schemas/prices.schema.json) over the shipped tables.")
@click.option("--json", "as_json", is_flag=True, help="The estimate as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="FOCUS rows as CSV (one per priced line); the same as --format csv.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None, help="Output format (default: table).")
@click.option("--parallel", type=click.IntRange(min=1), default=None,
              help="Processes to use (default: from 200 files on, one per 100 files, at most one per CPU; 1 = this process only).")
@job_options
def cost(paths, tenant, environment, all_stacks, month, by, prices, as_json, as_csv, fmt, parallel, project_dir, policy, image, assets_dir,
         variables):
    """Estimate each job's monthly cost before anything is deployed: runs from its schedule, duration, and the price tables.

    PATH... are job files or folders; --tenant/--environment selects one stack, --all every job of the jobs folder.
    """
    if sum(map(bool, (as_json, as_csv, fmt not in (None, "table")))) > 1 or (fmt == "table" and (as_json or as_csv)):
        raise click.UsageError("choose one output: --json, --csv or --format")
    output = "json" if as_json or fmt == "json" else "csv" if as_csv or fmt == "csv" else "table"
    as_json = output == "json"
    if bool(tenant) != bool(environment) and not all_stacks:
        raise click.UsageError("--tenant and --environment go together (one stack), or narrow --all")
    if not paths and not all_stacks and not tenant:
        raise click.UsageError("give job files or folders (PATH...), a stack (--tenant T --environment E), or --all")
    from ..cost import load_prices

    try:
        selected_month = parse_month(month)
        book = load_prices(prices)
    except DativoError as exc:
        fail(exc.problems, as_json)
    project = make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy)
    if tenant and environment and not all_stacks:
        from .fleet import stack_context

        stack_context(project, tenant, environment, as_json)  # a typo (--tenant acm) is exit 2, never an empty estimate
    roots = list(paths) or [project.jobs_dir]
    estimates, problems, skipped = estimate_roots(project, roots, book, selected_month, tenant=tenant, environment=environment,
                                                  variables=variables, assets_dir=assets_dir, parallel=parallel, with_skipped=True)
    if problems:
        fail(list(dict.fromkeys(problems)), as_json, code=EXIT_FAILED if any(p.field == "worker" for p in problems) else EXIT_INVALID)
    code = report(estimates, book, stack_settings(project), by=by, output=output, month=selected_month, skipped=skipped)
    if code:
        sys.exit(code)


def estimate_roots(project: Any, roots: list[str], book: Any, month: Optional[tuple[int, int]], *, tenant: Optional[str],
                   environment: Optional[str], variables: tuple[str, ...], assets_dir: Optional[str], parallel: Optional[int],
                   with_skipped: bool = False) -> Any:
    """(estimates, problems) of the job files under ``roots``, each resolved in its stack; (..., skipped files) with ``with_skipped``.

    A worker process that failed is one problem with field ``worker`` (exit 1, not bad input).
    """
    from ..jobs.parallel import WorkerError, load_and_apply
    from ..resolve import Resolver

    resolver = Resolver(project)
    try:
        result, outcomes, _ = load_and_apply(roots, estimator(resolver, book, month), lambda e: e, workers=parallel, tenant=tenant,
                                             environment=environment, variables=parse_vars(variables), assets_dir=assets_dir,
                                             scope=resolver.scope(roots))
    except WorkerError as exc:
        failed: list[Problem] = [Problem(", ".join(roots), str(exc), field="worker")]
        return ([], failed, []) if with_skipped else ([], failed)
    problems = [p for f in result.files for p in f.problems] + [p for o in outcomes if isinstance(o, list) for p in o]
    if not result.files:
        narrowed = " and ".join(f"{name} {value!r}" for name, value in (("tenant", tenant), ("environment", environment)) if value)
        problems.append(Problem(", ".join(roots), f"no job files found{' of ' + narrowed if narrowed else ''} (looked for *.yaml and *.yml)"))
    estimates = sorted((o for o in outcomes if o is not None and not isinstance(o, list)), key=lambda e: (e.tenant, e.environment, e.job, e.file))
    return (estimates, problems, [f.path for f, _ in _unestimated(result, outcomes)]) if with_skipped else (estimates, problems)


def stack_settings(project: Any):
    """(tenant, environment) → the stack's cost settings (node prices, budget), read once each."""
    from ..cost import StackCost

    cache: dict[tuple[str, str], Any] = {}

    def stack_of(tenant: str, environment: str) -> Any:
        if (tenant, environment) not in cache:
            context = project.context(tenant, environment)
            cache[(tenant, environment)] = StackCost.from_config(context.config, context.source)
        return cache[(tenant, environment)]

    return stack_of


def report(estimates: list[Any], book: Any, stack_of: Any, *, by: Optional[str], output: str, month: Optional[tuple[int, int]],
           skipped: list[str]) -> int:
    """Print the estimates (JSON, FOCUS CSV or the table) with their rollup, free grants and budgets; the exit code (2: a budget error)."""
    from ..cost import check_budgets, check_by, focus_csv, free_grant_lines, json_number, rollup, total

    try:
        grouping = check_by("tenant" if by is None else by, estimates)  # --by "" is a mistake, not the default
        findings = check_budgets(estimates, stack_of)
        grants = free_grant_lines(estimates, book)
    except DativoError as exc:
        fail(exc.problems, output == "json")
    groups = rollup(estimates, grouping)
    errors = [Problem(f.file, f.message, field="budget") for f in findings if f.severity == "error"]
    grand_total = total(estimates)
    if output == "json":
        emit_json({"ok": not errors, "currency": book.currency, "month": f"{month[0]:04d}-{month[1]:02d}" if month else None,
                   "jobs": [e.as_dict() for e in estimates], "groups": [g.as_dict() for g in groups], "total": json_number(grand_total),
                   "free_grants": [g.as_dict() for g in grants], "budgets": [f.as_dict() for f in findings],
                   "errors": [p.as_dict() for p in errors], "price_files": book.files, "skipped": skipped})
    elif output == "csv":
        click.echo(focus_csv(estimates), nl=False)
    else:
        _render_table(estimates, groups, grants, grand_total, book.currency, month)
    if output != "json":
        for finding in findings:
            click.echo(f"{'error' if finding.severity == 'error' else 'warning'}: {finding.render()}", err=True)
    return EXIT_INVALID if errors else 0


def _unestimated(result, outcomes):
    """Jobs with no infrastructure block: nothing to run, nothing to estimate."""
    rest = iter(outcomes)
    return [(f, None) for f in result.files for _ in f.jobs if next(rest) is None]
