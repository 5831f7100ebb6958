"""``terraform_compat/examples/<name>/``: the root configurations ``scaffold`` writes for one example job each.

Each example is what ``dativo-infra terraform scaffold`` writes for its job (:data:`~.scaffold.EXAMPLE_JOBS`),
in the example form: the modules of this checkout (``../../modules``), a partial backend completed at
``terraform init -backend-config=FILE``, and no values (``terraform apply -var-file=<exported file>``).
Files the generator does not write (the Kubernetes examples' ``moved.tf``) are the examples' own::

    .venv/bin/python -m terraform_compat.example_roots           # rewrite what changed
    .venv/bin/python -m terraform_compat.example_roots --check   # exit 1 when an example is stale
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Optional

from .scaffold import EXAMPLE_JOBS, build_root

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
REGENERATE = ".venv/bin/python -m terraform_compat.example_roots"


def render_examples() -> dict[str, dict[str, str]]:
    """Example name → file name → text, from the example jobs in the repository's own stack settings."""
    from dativo_infra.jobs import load_job
    from dativo_infra.resolve import Resolver
    from dativo_infra.stack import Project

    resolver = Resolver(Project(str(REPOSITORY)))
    out = {}
    for name, relative in EXAMPLE_JOBS.items():
        path = str(REPOSITORY / relative)
        resolved = resolver(load_job(path, scope=resolver.scope([str(REPOSITORY / "jobs")])))
        # the header names the job as the repository does, wherever the repository is
        resolved = dataclasses.replace(resolved, job=dataclasses.replace(resolved.job, path=relative))
        out[name] = build_root(resolved, example=True).files
    return out


def stale_files() -> list[Path]:
    return [EXAMPLES_DIR / name / file for name, files in render_examples().items() for file, text in files.items()
            if not (EXAMPLES_DIR / name / file).is_file() or (EXAMPLES_DIR / name / file).read_text(encoding="utf-8") != text]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terraform_compat.example_roots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when an example is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path}: not what scaffold writes for its example job; run: {REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    for name, files in render_examples().items():
        for file, text in files.items():
            path = EXAMPLES_DIR / name / file
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
