"""What ``dativo-infra cost`` does beyond estimating job files (docs/cost-refresh.md):

- ``cost prices --refresh``: current prices from the providers' public price APIs, written as a price file;
- ``cost --tfvars DIR``: the same estimate from exported variables (``terraform export``), for Terraform users;
- ``cost --compare-to REF``: each job's, each tenant's and the total change against a git revision or another folder.

:func:`with_extras` adds them to cost-core's ``cost`` command without changing it: the CLI registers
``with_extras(cost)``.
"""
from __future__ import annotations

import inspect
import os
import sys
from typing import Any, Optional

import click

from ..errors import DativoError, Problem
from .common import EXIT_FAILED, EXIT_INVALID, emit_json, fail, make_project
from .cost import estimate_roots, parse_month, report, stack_settings

REFRESH_CLOUDS = ("aws", "gcp", "azure")
NO_JOB_FILES = "no job files found"  # cost-core's estimate_roots: a folder without job files


@click.command("prices")
@click.option("--refresh", is_flag=True, help="Fetch current prices from the provider's public price API (needs the network).")
@click.option("--cloud", type=click.Choice(REFRESH_CLOUDS), default=None,
              help="aws: AWS Price List Bulk API (Fargate); gcp: Cloud Billing Catalog API (Cloud Run jobs; needs an API key); "
                   "azure: Azure Retail Prices API (Container Apps).")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Provider region id, repeatable (default: us-east-1 for aws, every region for gcp, eastus and westeurope for azure: what the shipped tables price).")
@click.option("--output", default=None, type=click.Path(dir_okay=False, allow_dash=True),
              help="The price file to write (for cost --prices FILE); - for standard output. An existing file is replaced only "
                   "if an earlier refresh wrote it.")
@click.option("--api-key-env", default="DATIVO_GCP_BILLING_API_KEY", show_default=True, metavar="NAME",
              help="With --cloud gcp: the environment variable that holds the Cloud Billing Catalog API key (never a command-line value).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=120), default=10.0, show_default=True,
              help="Seconds to wait for a connection or a read; each request gives up after 6 times this.")
@click.option("--prices", "overlay", default=None, type=click.Path(dir_okay=False),
              help="Without --refresh: a price file over the shipped tables (as cost --prices); with it: what the refresh is compared with.")
@click.option("--json", "as_json", is_flag=True, help="Report the prices (written, or in use) as JSON.")
def prices(refresh: bool, cloud: Optional[str], regions: tuple[str, ...], output: Optional[str], api_key_env: str, timeout: float,
           overlay: Optional[str], as_json: bool) -> None:
    """The prices the estimate uses, with their sources; with --refresh, current prices from a public price API into a price file.

    Without --refresh: every price of the shipped tables (and --prices FILE), with its region, unit, source,
    date and quality. With --refresh: the file is written, and each price is shown beside the one in use now.
    Offline, a refresh fails within seconds and names the URL it could not reach (exit 1). docs/cost-refresh.md.
    """
    from ..cost import load_prices

    if not refresh:
        if cloud or regions or output:
            raise click.UsageError("--cloud, --region and --output go with --refresh")
        try:
            book = load_prices(overlay)
        except DativoError as exc:
            fail(exc.problems, as_json)
        _list_prices(book, as_json)
        return
    if cloud is None or output is None:
        raise click.UsageError("--refresh needs --cloud aws|gcp|azure and --output FILE (or - for standard output)")
    from ..cost.refresh import RefreshError, gcp_api_key, http_fetch, refresh_prices, refresh_target
    from ..fsafe import write_atomic

    try:
        target = None if output == "-" else refresh_target(output)  # before any request: a refused path costs no download
        key = gcp_api_key(api_key_env) if cloud == "gcp" else None
    except RefreshError as exc:
        fail(exc.problems, as_json, EXIT_INVALID)
    try:
        result = refresh_prices(cloud, regions=regions, api_key=key, fetch=lambda url: http_fetch(url, timeout=timeout))
    except RefreshError as exc:
        fail(exc.problems, as_json, EXIT_FAILED)
    text = result.render()
    if target is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(target, text)
        except OSError as exc:
            from ..errors import Problem

            fail([Problem(output, f"cannot write: {exc.strerror or exc}")], as_json, EXIT_FAILED)
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    try:
        changes = result.changes(load_prices(overlay))
    except DativoError as exc:  # the file is written; only the comparison is missing
        fail(exc.problems, as_json)
    if as_json and target is not None:
        emit_json({"ok": True, "output": output, **result.as_dict(), "changes": changes, "notes": result.notes})
    elif target is not None:
        click.echo(f"wrote {output}: {len(result.prices)} prices, {len(result.free_grants)} free grants ({cloud})")
        for change in changes:
            if change["status"] != "same":
                was = f"now {change['current']} ({change['current_region']})" if change["current"] is not None else "no price in the tables"
                click.echo(f"  {change['status']}: {change['item']} {change['region']}: {change['refreshed']} per {change['unit']}; {was}")
        click.echo(f"  {sum(c['status'] == 'same' for c in changes)} prices the same as in use now")


def _list_prices(book: Any, as_json: bool) -> None:
    prices = sorted(book.prices.values(), key=lambda p: (p.item, p.region))
    if as_json:
        emit_json({"ok": True, "currency": book.currency, "prices": [p.as_dict() for p in prices], "files": book.files})
        return
    rows = [("ITEM", "REGION", "PRICE", "UNIT", "QUALITY", "READ ON", "SOURCE")]
    rows += [(p.item, p.region, str(p.price), p.unit, p.quality, p.read_on, p.source) for p in prices]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    click.echo(f"\n{len(prices)} prices in {book.currency} from {', '.join(book.files)}")


# --tfvars and --compare-to: options added to `cost`, and `cost prices` dispatched to the command above

EXTRA_HELP = ("\b\nAlso:\n"
              "  cost --tfvars DIR          the estimate from exported variables (terraform export)\n"
              "  cost ... --compare-to REF  the change against a git revision or another folder\n"
              "  cost prices [--refresh]    the prices in use; current ones from the public price APIs")


class _CostCommand(click.Command):
    """``cost`` itself, except that ``cost prices ...`` runs the prices command (cost takes PATH..., so it cannot be a group)."""

    def make_context(self, info_name: Optional[str], args: list[str], parent: Optional[click.Context] = None, **extra: Any) -> click.Context:
        if args and args[0] == "prices":
            return prices.make_context(f"{info_name} prices", list(args[1:]), parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


def with_extras(command: click.Command) -> click.Command:
    """``command`` (cost-core's ``cost``) with --tfvars, --compare-to and the ``prices`` subcommand."""
    base = command.callback
    assert base is not None
    options = [
        click.Option(["--tfvars", "tfvars_dir"], default=None, type=click.Path(), metavar="DIR",
                     help="Estimate from exported variables (*.tfvars, *.tfvars.json under DIR, as terraform export writes them) instead of "
                          "job files: the same numbers for Terraform users."),
        click.Option(["--compare-to", "compare_to"], default=None, metavar="REF",
                     help="Show each job's and each tenant's change, and the total's, against REF: a git revision (e.g. origin/main) "
                          "or another copy of the project folder."),
    ]

    def callback(tfvars_dir: Optional[str], compare_to: Optional[str], **given: Any) -> Any:
        if tfvars_dir is not None and compare_to is not None:
            raise click.UsageError("--tfvars and --compare-to do not go together")
        if tfvars_dir == "" or compare_to == "":  # an empty value (an unset CI variable) must not fall back to a plain estimate
            raise click.UsageError(f"{'--tfvars' if tfvars_dir == '' else '--compare-to'} needs a value")
        if tfvars_dir:
            return run_tfvars(tfvars_dir, **given)
        if compare_to:
            return run_compare(compare_to, **given)
        return base(**given)

    return _CostCommand(name=command.name, params=[*command.params, *options], callback=callback, help=f"{inspect.cleandoc(command.help or '')}\n\n{EXTRA_HELP}",
                        short_help=command.short_help, context_settings=command.context_settings)


def _output(as_json: bool, as_csv: bool, fmt: Optional[str]) -> str:
    if sum(map(bool, (as_json, as_csv, fmt not in (None, "table")))) > 1 or (fmt == "table" and (as_json or as_csv)):
        raise click.UsageError("choose one output: --json, --csv or --format")
    return "json" if as_json or fmt == "json" else "csv" if as_csv or fmt == "csv" else "table"


def tfvars_estimates(tfvars_dir: str, book: Any, month: Optional[tuple[int, int]], stack_of: Any) -> tuple[list[Any], list[Problem], list[dict]]:
    """(estimates, problems, skipped files) of every exported file under ``tfvars_dir``: estimate_job on the variables read back."""
    from ..cost import estimate_job
    from ..cost.tfvars import read_tfvars_tree
    from ..jobs.rules import check_identifier

    tree = read_tfvars_tree(tfvars_dir)
    estimates, problems = [], list(tree.problems)
    for job in tree.jobs:
        tenant, environment = str(job.variables.get("tenant_id", "")), str(job.variables.get("environment", ""))
        # they name the stack file read for node prices and budgets: 'x' and '../../../home/me/notes' would read
        # /home/me/notes.yaml (the path is normalised before it is opened)
        wrong = [*check_identifier(tenant, "tenant_id"), *check_identifier(environment, "environment")]
        if wrong:
            problems += [Problem(job.path, message, field=message.split(" ", 1)[0]) for message in wrong]
            continue
        try:
            stack = stack_of(tenant, environment)
            estimates.append(estimate_job(job.variables, book, month=month, stack=stack, file=job.path))
        except DativoError as exc:
            problems += exc.problems
    return sorted(estimates, key=lambda e: (e.tenant, e.environment, e.job, e.file)), problems, tree.skipped


def run_tfvars(tfvars_dir: str, *, paths: tuple[str, ...], tenant: Optional[str], environment: Optional[str], all_stacks: bool,
               month: Optional[str], by: Optional[str], prices: Optional[str], as_json: bool, as_csv: bool, fmt: Optional[str],
               parallel: Optional[int], project_dir: str, policy: Optional[str], image: Optional[str], assets_dir: Optional[str],
               variables: tuple[str, ...]) -> None:
    """``cost --tfvars DIR``: every exported job under DIR, estimated and reported as ``cost`` reports job files."""
    output = _output(as_json, as_csv, fmt)
    if paths or tenant or environment or all_stacks:
        raise click.UsageError("--tfvars DIR estimates the exported files under DIR: give no PATH, --tenant, --environment or --all with it")
    from ..cost import load_prices

    try:
        selected_month = parse_month(month)
        book = load_prices(prices)
    except DativoError as exc:
        fail(exc.problems, output == "json")
    project = make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy)
    stack_of = stack_settings(project)
    estimates, problems, skipped = tfvars_estimates(tfvars_dir, book, selected_month, stack_of)
    if not estimates and not problems:
        problems.append(Problem(tfvars_dir, "no exported variables found (looked for *.tfvars and *.tfvars.json written by terraform export)"))
    if problems:
        fail(list(dict.fromkeys(problems)), output == "json")
    code = report(estimates, book, stack_of, by=by, output=output, month=selected_month, skipped=[s["path"] for s in skipped])
    for item in skipped:
        click.echo(f"skipped {item['path']}: {item['reason']}", err=True)
    if code:
        sys.exit(code)


def _exit_code(problems: list[Problem]) -> int:
    """As ``cost``: a worker process that failed is exit 1; bad input is exit 2."""
    return EXIT_FAILED if any(p.field == "worker" for p in problems) else EXIT_INVALID


def _inside(path: Optional[str], project_dir: str, other_root: str) -> Optional[str]:
    """A path of this project folder → the same path in the other version of it (a path outside the folder stays as given)."""
    from ..cost.compare import relative_inside

    if path is None:
        return None
    try:
        return os.path.join(other_root, relative_inside(path, project_dir, "the project folder"))
    except DativoError:
        return path


def _shown(path: str, other_root: str, ref: str) -> str:
    """A file of the temporary copy, as the reader knows it: ``REF:relative/path``."""
    relative = os.path.relpath(path, other_root)
    return path if relative.startswith(os.pardir) else f"{ref}:{relative}"


def run_compare(ref: str, *, paths: tuple[str, ...], tenant: Optional[str], environment: Optional[str], all_stacks: bool,
                month: Optional[str], by: Optional[str], prices: Optional[str], as_json: bool, as_csv: bool, fmt: Optional[str],
                parallel: Optional[int], project_dir: str, policy: Optional[str], image: Optional[str], assets_dir: Optional[str],
                variables: tuple[str, ...]) -> None:
    """``cost --compare-to REF``: the same selection estimated here and in REF, with the same prices; the change per job, tenant, total."""
    import dataclasses

    output = _output(as_json, as_csv, fmt)
    if output == "csv":
        raise click.UsageError("--compare-to prints a table or JSON (--json), not CSV")
    if by:
        raise click.UsageError("--compare-to shows the change per job and per tenant; --by goes with a plain estimate")
    if bool(tenant) != bool(environment) and not all_stacks:
        raise click.UsageError("--tenant and --environment go together (one stack), or narrow --all")
    if not paths and not all_stacks and not tenant:
        raise click.UsageError("give job files or folders (PATH...), a stack (--tenant T --environment E), or --all, to compare")
    from ..cost import load_prices
    from ..cost.compare import before_tree, compare, relative_inside

    as_json = output == "json"
    try:
        selected_month = parse_month(month)
        book = load_prices(prices)
        project = make_project(project_dir, image=image, assets_dir=assets_dir, variables=variables, policy=policy)
        roots = list(paths) or [project.jobs_dir]
        relative = [relative_inside(root, project_dir, "the project folder") for root in roots]
    except DativoError as exc:
        fail(exc.problems, as_json)
    options: dict[str, Any] = {"tenant": tenant, "environment": environment, "variables": variables, "parallel": parallel}
    try:
        with before_tree(project_dir, ref) as old_root:  # REF first: a bad revision is reported before any estimate runs
            after, problems = estimate_roots(project, roots, book, selected_month, assets_dir=assets_dir, **options)
            if problems:
                fail(list(dict.fromkeys(problems)), as_json, _exit_code(problems))
            old_assets = _inside(assets_dir, project_dir, old_root)
            old_project = make_project(old_root, image=image, assets_dir=old_assets, variables=variables, policy=_inside(policy, project_dir, old_root))
            old_roots = [os.path.join(old_root, r) for r in relative if os.path.exists(os.path.join(old_root, r))]
            if not old_roots and os.path.isdir(ref) and not os.path.isfile(os.path.join(ref, "Pulumi.yaml")):  # a wrong folder: not "all new"
                fail([Problem("--compare-to", f"folder {ref} holds neither Pulumi.yaml nor {', '.join(relative)}: it is not another copy of "
                                              "the project folder (give the folder that holds Pulumi.yaml and the jobs folder, or a git revision)")],
                     as_json)
            before, problems = (estimate_roots(old_project, old_roots, book, selected_month, assets_dir=old_assets, **options)
                                if old_roots else ([], []))
            problems = [p for p in problems if not p.message.startswith(NO_JOB_FILES)]  # an empty base: every job is new
            before = [dataclasses.replace(e, file=_shown(e.file, old_root, ref)) for e in before]
            problems = [dataclasses.replace(p, file=_shown(p.file, old_root, ref)) for p in problems]
    except DativoError as exc:
        fail(exc.problems, as_json)
    if problems:
        fail([*dict.fromkeys(problems), Problem("--compare-to", f"the jobs at {ref} cannot be estimated (above): nothing to compare with")],
             as_json, _exit_code(problems))
    diff = compare(before, after, ref)
    month_text = f"{selected_month[0]:04d}-{selected_month[1]:02d}" if selected_month else None
    if as_json:
        emit_json({"ok": True, "currency": book.currency, "month": month_text, **diff.as_dict()})
        return
    render_diff(diff, book.currency, month_text)


def _signed(value: Any) -> str:
    return f"{value:+.2f}"


def render_diff(diff: Any, currency: str, month: Optional[str]) -> None:
    click.echo(f"cost change against {diff.ref} ({'month ' + month if month else 'an average month'}, {currency} a month)")
    rows = [("TENANT", "ENVIRONMENT", "JOB", "BEFORE", "AFTER", "CHANGE", "")]
    for j in diff.jobs:
        if j.status != "unchanged":
            rows.append((j.tenant, j.environment, j.job, "-" if j.before is None else f"{j.before:.2f}",
                         "-" if j.after is None else f"{j.after:.2f}", _signed(j.change), j.status))
    if len(rows) == 1:
        click.echo(f"no job's estimate changed ({len(diff.jobs)} jobs)")
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo("  ".join(c.rjust(w) if 3 <= i <= 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        click.echo(f"({sum(j.status == 'unchanged' for j in diff.jobs)} jobs unchanged)")
    click.echo("\nby tenant:")
    width = max((len(t.tenant) for t in diff.tenants), default=0)
    for t in diff.tenants:
        click.echo(f"  {t.tenant.ljust(width)}  {t.before:>10.2f} -> {t.after:>10.2f}  {_signed(t.change):>10}")
    click.echo(f"\ntotal: {diff.before:.2f} -> {diff.after:.2f} {currency} ({_signed(diff.change)})")
