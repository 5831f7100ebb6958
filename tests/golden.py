"""Golden files of the exported Terraform variables of every example job.

Regenerate them after an intended change of the exporter, the variables or the
example jobs, and review the diff before committing::

    make golden            # or: .venv/bin/python -m tests.golden

They live under tests/golden/tfvars/<tenant>/<environment>/<job>.tfvars (with
.tfvars.json, and .backend.hcl for jobs with a terraform.backend_config), the
layout of `dativo-infra terraform export --all`. Jobs are read from the
repository root with relative paths, each in its stack's context (Pulumi.yaml
and the example stack files: their images and regions), the environment
ignored for ${VAR}, so the files are the same on every machine.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path("tests") / "golden" / "tfvars"
JOBS_DIR, ASSETS_DIR = "jobs", "jobs/assets"
REGENERATE = "make golden   (or: .venv/bin/python -m tests.golden)"


@contextmanager
def at_root() -> Iterator[None]:
    before = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def render_all() -> dict[str, str]:
    """Golden path (relative to the repository root) → the text the exporter writes today."""
    from dativo_infra.jobs import load_jobs
    from dativo_infra.resolve import Resolver
    from terraform_compat import backend_output_path, render, render_backend, tree_output_path

    with at_root():
        resolver = Resolver()
        result = load_jobs([JOBS_DIR], assets_dir=ASSETS_DIR, environ={}, scope=resolver.scope([JOBS_DIR]))
        if not result.ok:
            raise SystemExit("example jobs do not validate:\n" + "\n".join(p.render() for p in result.problems))
        files: dict[str, str] = {}
        for job in result.jobs:
            if job.infrastructure is None:
                continue
            for fmt in ("hcl", "json"):
                files[tree_output_path(str(GOLDEN), job, fmt)] = render(resolver(job), fmt)
            backend = render_backend(job)
            if backend is not None:
                files[backend_output_path(tree_output_path(str(GOLDEN), job, "hcl"), "hcl")] = backend
    return files


def existing() -> dict[str, str]:
    folder = ROOT / GOLDEN
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def write_all() -> list[str]:
    files = render_all()
    folder = ROOT / GOLDEN
    if folder.exists():
        shutil.rmtree(folder)
    for rel, text in sorted(files.items()):
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


if __name__ == "__main__":
    written = write_all()
    print(f"wrote {len(written)} golden files under {GOLDEN}/", file=sys.stderr)
