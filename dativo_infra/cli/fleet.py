"""``dativo-infra preview|up|refresh|destroy``: Pulumi operations on one tenant stack or on all of them.

One stack (``--tenant T --environment E``) runs in this process and streams
Pulumi's output to stderr. ``--all`` runs every stack found in the jobs folder
in worker processes, ``--parallel N`` at a time, with a progress line per
stack on stderr, a summary table (or ``--json``) on stdout, and exit code 1
if any stack failed. The helpers here also serve ``dativo-infra plan --all``.
"""
from __future__ import annotations

import sys
from typing import Optional

import click

from ..errors import ConfigError, Problem
from .common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, emit_json, fail, make_project, parse_vars, project_option, require_pulumi_sdks

# -- options shared with `plan` -----------------------------------------------------------------------------

def selection_options(func):
    """--tenant/--environment or --all, --parallel, how job files are read, --json."""
    decorators = [
        click.option("--tenant", default=None, help="Tenant of the stack (with --all: only this tenant)."),
        click.option("--environment", default=None, help="Environment of the stack (with --all: only this environment)."),
        click.option("--all", "all_stacks", is_flag=True, help="Every tenant/environment found in the jobs folder."),
        click.option("--parallel", default=1, show_default=True, type=click.IntRange(min=1),
                     help="With --all: stacks run at once, each in its own process."),
        click.option("--jobs-dir", default=None, type=click.Path(file_okay=False, exists=True),
                     help="Folder of job files (default: the stack config's dativo-infra:jobsDir, else jobs)."),
        click.option("--assets-dir", envvar="DATIVO_ASSETS_DIR", default=None, type=click.Path(file_okay=False, exists=True), help="Folder of asset files."),
        click.option("--image", envvar="DATIVO_IMAGE", default=None, help="Runner image when a job names none."),
        click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="Value for ${KEY} in job files."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return project_option(func)


def check_selection(tenant: Optional[str], environment: Optional[str], all_stacks: bool) -> None:
    if not all_stacks and not (tenant and environment):
        raise click.UsageError("give --tenant and --environment for one stack, or --all for every stack in the jobs folder")


def discover(jobs_dir: str, variables: dict, tenant: Optional[str], environment: Optional[str], as_json: bool, project=None):
    from ..fleet import discover_stacks

    try:
        found = discover_stacks(jobs_dir, variables=variables, tenant=tenant, environment=environment, project=project)
    except ConfigError as exc:
        fail(exc.problems, as_json, EXIT_INVALID)
    if not found.stacks and not found.problems:
        which = " ".join(f"{k} {v}" for k, v in (("tenant", tenant), ("environment", environment)) if v)
        fail([Problem(jobs_dir, f"no job with an infrastructure block found{' for ' + which if which else ''}")], as_json, EXIT_INVALID)
    return found


def stack_context(project, tenant: str, environment: str, as_json: bool):
    """One stack's context, once it is known to exist (a typo such as --tenant acm is exit 2, never a new stack)."""
    from ..fleet import known_stacks
    from ..stack import check_known

    try:
        context = project.context(tenant, environment)
        check_known(tenant, environment, known_stacks(context.jobs_dir, project), f"stack {tenant}-{environment}")
    except ConfigError as exc:
        fail(exc.problems, as_json, EXIT_INVALID, {"tenant": tenant, "environment": environment})
    return context


def jobs_folder(project, jobs_dir: Optional[str]) -> str:
    """Where a fleet finds its stacks: --jobs-dir, else Pulumi.yaml's dativo-infra:jobsDir (in the project folder), else jobs."""
    return jobs_dir or project.jobs_dir


def _progress_start(operation: str, total: int):
    count = {"started": 0}

    def on_start(stack, pid: int) -> None:
        count["started"] += 1
        click.echo(f"[{operation} {count['started']}/{total}] {stack.name}: started (pid {pid})", err=True)

    return on_start


def _errors_text(record) -> str:
    n = len(record.errors)
    return f"{n} error{'s' if n != 1 else ''}"


def on_finish(record) -> None:
    if record.ok:
        click.echo(f"[{record.operation}] {record.stack}: ok, {record.summary} ({record.seconds:.2f} s)", err=True)
    else:
        click.echo(f"[{record.operation}] {record.stack}: FAILED, {_errors_text(record)} ({record.seconds:.2f} s)", err=True)
        for problem in record.errors:
            click.echo(f"    {Problem(**problem).render()}", err=True)


def render_summary(result) -> None:
    rows = [("STACK", "RESULT", "SECONDS", "DETAIL")]
    for r in result.records:
        detail = r.summary if r.ok else _errors_text(r)
        if r.kept:
            detail += f"; {len(r.kept)} protected kept"
        rows.append((r.stack, "ok" if r.ok else "FAILED", f"{r.seconds:.2f}", detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    click.echo()
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}".rstrip())
    for r in result.failed:
        click.echo(f"\n{r.stack}:")
        for problem in r.errors:
            click.echo(f"  {Problem(**problem).render()}")
    if result.problems:
        click.echo("\njob files that belong to no stack:")
        for problem in result.problems:
            click.echo(f"  {problem.render()}")
    failed = len(result.failed)
    extra = f", {len(result.problems)} unattributed file problems" if result.problems else ""
    click.echo(f"\n{len(result.records)} stacks: {len(result.records) - failed} ok, {failed} failed{extra} "
               f"({result.seconds:.2f} s, parallel {result.parallel})")


def run_all(operation: str, *, jobs_dir, assets_dir, image, variables, tenant, environment, parallel, as_json,
            options=None, output_dir=None, notice: Optional[str] = None, project_dir: str = ".", policy: Optional[str] = None,
            coverage: bool = False) -> None:
    """Discover, run every stack in worker processes, report; exits 0 or 1."""
    from ..fleet import Workers, run_fleet

    project = make_project(project_dir, image=image, jobs_dir=jobs_dir, assets_dir=assets_dir, policy=policy)
    jobs_dir = jobs_folder(project, jobs_dir)
    with Workers(parallel, operation) as workers:  # started first: they load Pulumi while the jobs folder is read
        found = discover(jobs_dir, variables, tenant, environment, as_json, project)
        for problem in found.problems:
            click.echo(f"[{operation}] no stack: {problem.render()}", err=True)
        result = run_fleet(operation, found.stacks, jobs_dir=jobs_dir, assets_dir=assets_dir, image=image, variables=variables,
                           options=options, parallel=parallel, output_dir=output_dir, problems=found.problems, project_dir=project_dir,
                           policy=policy, coverage=coverage,
                           on_start=_progress_start(operation, len(found.stacks)), on_finish=on_finish, workers=workers)
    fleet_total = None
    if coverage:
        from ..policy import fleet_coverage

        fleet_total = fleet_coverage({"stack": r.stack, "coverage": r.coverage} for r in result.records if r.coverage is not None)
    if as_json:
        emit_json({**result.as_dict(), **({"coverage": fleet_total["coverage"]} if fleet_total is not None else {}),
                   **({"notice": notice} if notice else {})})
    else:
        for record in result.records:
            for line in record.warnings:
                click.echo(f"warning: {line}", err=True)
        render_summary(result)
        if fleet_total is not None:
            from ..policy import render_coverage

            for record in result.records:
                if record.coverage is not None:
                    click.echo("\n" + render_coverage({"stack": record.stack, "coverage": record.coverage}))
            click.echo("\n" + render_coverage(fleet_total).split("\n", 1)[0])  # the totals: each gap was listed with its stack
    sys.exit(EXIT_OK if result.ok else EXIT_FAILED)


# -- preview / up / refresh / destroy -----------------------------------------------------------------------

def pulumi_options(func):
    decorators = [
        click.option("--backend-url", default=None, help="State backend (default: PULUMI_BACKEND_URL, else file://<project-dir>/.pulumi-state)."),
        click.option("--config", "config", multiple=True, metavar="KEY=VALUE", help="Provider config for every stack, e.g. aws:region=us-east-1."),
        click.option("--secrets-provider", default=None, help="Secrets provider instead of PULUMI_CONFIG_PASSPHRASE (e.g. awskms://alias/x)."),
        click.option("--json", "as_json", is_flag=True, help="Print the result(s) as JSON."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _run(operation: str, tenant, environment, all_stacks, parallel, jobs_dir, assets_dir, image, variables,
         backend_url, config, secrets_provider, project_dir, policy, as_json) -> None:
    """``project_dir`` holds the stack files, and .pulumi-state and .pulumi-workspaces of the local backend."""
    check_selection(tenant, environment, all_stacks)
    require_pulumi_sdks(as_json)
    given_vars, variables = variables, parse_vars(variables)
    config_values = parse_vars(config)  # same KEY=VALUE form
    from .. import automation  # imports Pulumi's SDK (a fraction of a second), never runs anything

    options = automation.StackOptions(config=config_values, backend_url=backend_url, secrets_provider=secrets_provider, root=project_dir or None)
    settings = None
    if not all_stacks:  # a stack nobody declared (a typo such as --tenant acm) is exit 2 before anything else, never a new stack
        project = make_project(project_dir, image=image, jobs_dir=jobs_dir, assets_dir=assets_dir, variables=given_vars, policy=policy)
        settings = stack_context(project, tenant, environment, as_json)
    try:
        automation.preflight(options)  # the CLI first, then backend and passphrase: fails in milliseconds
    except automation.AutomationError as exc:
        fail(exc.problems, as_json, EXIT_FAILED, {"operation": operation})
    if settings is None:
        run_all(operation, jobs_dir=jobs_dir, assets_dir=assets_dir, image=image, variables=variables, tenant=tenant,
                environment=environment, parallel=parallel, as_json=as_json, options=options, project_dir=project_dir, policy=policy)
        return

    def on_output(line: str) -> None:
        click.echo(line.rstrip("\n"), err=True)

    try:
        result = getattr(automation, operation)(settings, options, on_output=on_output)
    except automation.AutomationError as exc:
        fail(exc.problems, as_json, EXIT_FAILED, {"operation": operation, "tenant": tenant, "environment": environment})
        return
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(f"{operation} {result.stack}: {result.summary} ({result.seconds:.1f} s, backend {result.backend})")
    for urn in result.kept:
        click.echo(f"  kept (protected): {urn}")
    for note in result.notes:
        click.echo(f"  note: {note}")


def _command(operation: str, doc: str, destructive: bool = False):
    def command(yes: bool = True, **kwargs):
        if destructive and not yes:
            raise click.UsageError(f"{operation} deletes cloud resources: add --yes to confirm (protected storage is always kept)")
        _run(operation, **kwargs)

    command.__doc__ = doc
    command.__name__ = operation
    command = selection_options(pulumi_options(command))
    if destructive:
        command = click.option("--yes", is_flag=True, help="Confirm the deletion.")(command)
    return click.command(name=operation)(command)


preview = _command("preview", "Show what `up` would change in the tenant stack(s) (needs the Pulumi CLI).")
up = _command("up", "Create or update the tenant stack(s) (needs the Pulumi CLI).")
refresh = _command("refresh", "Read the real cloud state into the tenant stack(s) (needs the Pulumi CLI).")
destroy = _command("destroy", "Delete the tenant stack(s)' resources; protected storage is kept (needs --yes and the Pulumi CLI).",
                   destructive=True)

__all__ = ["destroy", "preview", "refresh", "up", "run_all", "selection_options"]
