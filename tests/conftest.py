"""Shared fixtures: where the repository, the example jobs and the upstream reference jobs are."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dativo_infra.sdk_loader import install as install_sdk_loader

# the suite loads the provider SDKs as `dativo-infra plan` does (test_sdk_loader compares its plans with the SDKs as shipped)
install_sdk_loader()

ROOT = Path(__file__).resolve().parent.parent
JOBS = ROOT / "jobs"
# The upstream Dativo reference jobs are copied into tests/fixtures/reference-jobs (see its README);
# DATIVO_REFERENCE_JOBS points elsewhere. Missing → the tests fail, they never skip.
REFERENCE_JOBS = Path(os.environ.get("DATIVO_REFERENCE_JOBS", ROOT / "tests" / "fixtures" / "reference-jobs"))


@pytest.fixture(scope="session")
def reference_jobs() -> Path:
    if not (REFERENCE_JOBS / "jobs").is_dir():
        pytest.fail(f"reference jobs not found at {REFERENCE_JOBS}: set DATIVO_REFERENCE_JOBS to the folder holding jobs/ and assets/")
    return REFERENCE_JOBS


@pytest.fixture
def cli():
    """Run the dativo-infra CLI in-process; returns (exit code, stdout, stderr)."""
    from dativo_infra.cli import cli as group

    def run(*args, env=None):
        runner = CliRunner()
        result = runner.invoke(group, [str(a) for a in args], env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def write(tmp_path):
    """Write a file under tmp_path (text or bytes) and return its path."""

    def _write(name: str, content, base: Path = tmp_path) -> Path:
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


TERRAFORM = shutil.which("terraform")


PROJECT_FILE = "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n"


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """tmp_path as a project folder: a Pulumi.yaml whose only setting is the AWS region every stack defaults to."""
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE, encoding="utf-8")
    return tmp_path
