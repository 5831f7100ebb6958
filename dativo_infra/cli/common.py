"""Shared options and rendering for the command line. Only this package prints."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn, Optional

import click

from ..errors import Problem

if TYPE_CHECKING:
    from ..stack import Project

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def parse_vars(values: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--var")
        out[key] = value
    return out


PROJECT_DIR_HELP = ("The project folder: Pulumi.yaml and the Pulumi.<tenant>-<environment>.yaml stack files, whose settings "
                    "(image, regions, vars, shared jobs) apply to each stack's jobs; command-line flags win over them.")


def project_option(func):
    """--project-dir and --policy: the stack settings that apply, and the tag policy that overrides the stacks' own."""
    func = click.option("--policy", default=None, type=click.Path(dir_okay=False, exists=True),
                        help="Tag policy file (docs/policy.md); wins over the stack config's dativo-infra:policy.")(func)
    return click.option("--project-dir", default=".", show_default=True, type=click.Path(file_okay=False, exists=True),
                        help=PROJECT_DIR_HELP)(func)


PULUMI_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes")


def require_pulumi_sdks(as_json: bool) -> None:
    """plan and the Pulumi operations run the program: without the SDKs, say which extra to install (exit 2), not a traceback."""
    import importlib.util

    missing = [name for name in PULUMI_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        fail([Problem(", ".join(missing), "not installed: this command runs the Pulumi program, which needs the Pulumi SDKs; "
                                          "install them with pip install 'dativo-infra[pulumi]' (or pip install -r requirements.txt). "
                                          "validate, tags and terraform export work without them")], as_json, EXIT_INVALID)


def print_warnings(findings: Iterable[Any]) -> None:
    """The tag policy's warn rules: a line each on stderr; the run goes on (exit 0)."""
    for finding in findings:
        click.echo(f"warning: {finding.render() if hasattr(finding, 'render') else finding}", err=True)


def job_options(func):
    """--assets-dir, --var, --image, --project-dir: how job files are read, and the stack settings that apply to them."""
    func = click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="Value for ${KEY} in job files (wins over the stack config).")(func)
    func = click.option("--assets-dir", envvar="DATIVO_ASSETS_DIR", type=click.Path(file_okay=False), default=None,
                        help="Where asset files live (env DATIVO_ASSETS_DIR; default jobs/assets).")(func)
    func = click.option("--image", envvar="DATIVO_IMAGE", default=None, help="Runner image when a job names none (env DATIVO_IMAGE; wins over the stack config).")(func)
    return project_option(func)


def make_project(project_dir: str, *, image: Optional[str] = None, jobs_dir: Optional[str] = None, assets_dir: Optional[str] = None,
                 variables: Iterable[str] = (), policy: Optional[str] = None) -> Project:
    """The project folder with the command line's flags on top (flags > Pulumi.<stack>.yaml > Pulumi.yaml)."""
    from ..stack import Flags, Project

    return Project(project_dir, Flags(image=image, jobs_dir=jobs_dir, assets_dir=assets_dir, variables=parse_vars(variables), policy=policy))


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def print_problems(problems: Iterable[Problem], err: bool = False) -> None:
    for problem in problems:
        click.echo(problem.render(), err=err)


def fail(problems: list[Problem], as_json: bool, code: int = EXIT_INVALID, extra: Optional[dict[str, Any]] = None) -> NoReturn:
    """Every failure has one shape: a line per problem, or ``{"ok": false, "errors": [...]}`` under ``--json``."""
    if as_json:
        emit_json({"ok": False, "errors": [p.as_dict() for p in problems], **(extra or {})})
    else:
        print_problems(problems, err=True)
    sys.exit(code)
