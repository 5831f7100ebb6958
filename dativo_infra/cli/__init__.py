"""The ``dativo-infra`` command line. Subcommands live one per module and import heavy SDKs lazily."""
from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import DativoError
from .cost import cost
from .cost_extras import with_extras
from .fleet import destroy, preview, refresh, up
from .plan import plan
from .tags import tags
from .terraform import terraform
from .validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dativo-infra")
def cli():
    """Provision and tag the infrastructure Dativo ingestion jobs run on."""


cli.add_command(validate)
cli.add_command(tags)
cli.add_command(terraform)
cli.add_command(plan)
cli.add_command(with_extras(cost))  # cost-core's command, plus --tfvars, --compare-to and `cost prices` (cost-extras)
for _command in (preview, up, refresh, destroy):
    cli.add_command(_command)


def _usage_error(exc: click.ClickException, as_json: bool) -> None:
    """A usage error in the one failure shape: ``{"ok": false, "errors": [...]}`` under --json, click's own text otherwise."""
    if not as_json:
        exc.show()
        sys.exit(exc.exit_code)
    from ..errors import Problem
    from .common import emit_json

    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "dativo-infra"
    emit_json({"ok": False, "errors": [Problem(where, exc.format_message(), field="usage").as_dict()]})
    sys.exit(exc.exit_code)


def _interrupted(exc: BaseException) -> bool:
    """Whether an interrupt (KeyboardInterrupt, or the console entry's own, which is no Exception) caused ``exc``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if not isinstance(cause, Exception):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def main(argv=None) -> None:
    """Entry point: bad input is a message and an exit code, never a traceback."""
    # pydantic looks for plugins through every installed distribution's entry points when the first
    # model is built (~15 ms at each start); the CLI's own models need none. Set the variable to opt back in.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="dativo-infra", standalone_mode=False)
        sys.exit(0)  # as click's standalone mode would: a command that returns has succeeded
    except click.ClickException as exc:  # usage errors: exit 2 (click's own code), in the --json shape when asked
        _usage_error(exc, "--json" in args)
    except DativoError as exc:  # bad input found outside a command's own handling (e.g. an unreadable Pulumi.yaml): still exit 2
        from .common import fail

        fail(exc.problems, "--json" in args)
    except click.exceptions.Abort:  # Ctrl-C inside a prompt or while click reads input
        click.echo("interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so plainly
        if _interrupted(exc):  # a Ctrl-C that Python wrapped on the way (e.g. raised inside a class's __set_name__)
            click.echo("interrupted", err=True)
            sys.exit(130)
        click.echo(f"dativo-infra: internal error: {type(exc).__name__}: {exc} (please report this with the command you ran)", err=True)
        sys.exit(70)
    finally:
        plan = sys.modules.get("dativo_infra.plan")
        if plan is not None:  # a plan ran in this process: close the SDK's event loops before teardown does it noisily
            plan.release_runtime()
