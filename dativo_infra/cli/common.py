"""Shared options and rendering for the command line. Only this package prints."""
from __future__ import annotations

import json
import sys
from typing import Iterable, Optional

import click

from ..errors import Problem

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def parse_vars(values: Iterable[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--var")
        out[key] = value
    return out


def job_options(func):
    """--assets-dir, --var and --tenant: how job files are read."""
    func = click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="Value for ${KEY} in job files (wins over the environment).")(func)
    func = click.option("--assets-dir", envvar="DATIVO_ASSETS_DIR", type=click.Path(file_okay=False), default=None,
                        help="Where asset files live (env DATIVO_ASSETS_DIR; default jobs/assets).")(func)
    return func


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def print_problems(problems: Iterable[Problem], err: bool = False) -> None:
    for problem in problems:
        click.echo(problem.render(), err=err)


def fail(problems: list[Problem], as_json: bool, code: int = EXIT_INVALID, extra: Optional[dict] = None) -> None:
    if as_json:
        emit_json({"ok": False, "errors": [p.as_dict() for p in problems], **(extra or {})})
    else:
        print_problems(problems, err=True)
    sys.exit(code)
