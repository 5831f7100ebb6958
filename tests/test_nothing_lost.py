"""Nothing lost (issue 13): what cannot be read fails the run and stops --clean; no input hangs the tool.

Runs the command line in-process on a project folder in tmp_path. A folder cannot be made unreadable for root
(the CI user) with chmod, so the unreadable folder is simulated where the walk lists folders (os.scandir).
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from .conftest import JOBS, PROJECT_FILE


def tree(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE)
    jobs = tmp_path / "jobs"
    shutil.copytree(JOBS, jobs)
    return jobs


def unreadable(monkeypatch, folder: Path) -> None:
    real = os.scandir

    def scandir(path="."):
        if os.path.realpath(path) == os.path.realpath(folder):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_folder_fails_validate_and_clean_deletes_nothing(cli, tmp_path, monkeypatch):
    jobs = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "out"
    code, out, err = cli("terraform", "export", "--all", "jobs", "--output-dir", out_dir)
    assert code == 0, out + err
    before = sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file())
    assert any(str(p).startswith("globex/") for p in before)

    unreadable(monkeypatch, jobs / "globex")
    code, out, err = cli("validate", "jobs")
    assert code == 2
    assert "jobs/globex: cannot read folder: Permission denied; its job files were not read" in out
    code, out, err = cli("terraform", "export", "--all", "jobs", "--output-dir", out_dir, "--clean", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False and report["removed"] == []
    assert any("--clean deleted nothing" in e["message"] for e in report["errors"])
    assert sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file()) == before  # globex's exports are still there


def run_with_deadline(cli, *args, seconds: float = 20):
    """The command's result, failing the test (not hanging it) if it does not finish in time."""
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", cli(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"{args} did not finish in {seconds} s"
    return box["result"]


@pytest.mark.parametrize("command", [["validate"], ["terraform", "export", "--all"], ["plan", "--all", "--jobs-dir"]])
def test_a_fifo_named_yaml_is_reported_not_waited_for(cli, tmp_path, monkeypatch, command):
    jobs = tree(tmp_path)
    os.mkfifo(jobs / "acme" / "pipe.yaml")
    monkeypatch.chdir(tmp_path)
    extra = ["--output-dir", str(tmp_path / "out")] if "export" in command else []
    code, out, err = run_with_deadline(cli, *command, "jobs", *extra)
    assert code in (1, 2) and "Traceback" not in out + err
    assert "pipe.yaml" in out + err and "named pipe" in out + err


def test_a_job_file_linked_to_dev_zero_is_refused_not_read_forever(cli, tmp_path, monkeypatch):
    jobs = tree(tmp_path)
    (jobs / "acme" / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "one.yaml").symlink_to("/dev/zero")
    monkeypatch.chdir(tmp_path)
    for args in (["validate", "jobs"], ["validate", "one.yaml"], ["tags", "one.yaml"]):
        code, out, err = run_with_deadline(cli, *args)
        assert code == 2 and "Traceback" not in out + err, (args, out + err)
        assert "zero.yaml" in out + err or "one.yaml" in out + err


def test_output_never_replaces_a_file_an_export_did_not_write(cli, tmp_path, monkeypatch):
    jobs = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    job = jobs / "acme" / "stripe_customers_aws.yaml"
    before = job.read_bytes()
    for args in (["--output", str(job)], ["--output", "Pulumi.yaml"], ["--output", "a.tfvars", "--backend-config", "a.tfvars"]):
        code, out, err = cli("terraform", "export", "--config", job, *args)
        assert code == 2, (args, out + err)
    assert job.read_bytes() == before and (tmp_path / "Pulumi.yaml").read_text() == PROJECT_FILE and not (tmp_path / "a.tfvars").exists()


def test_clean_removes_only_what_an_export_wrote_and_nothing_when_a_stack_file_is_broken(cli, tmp_path, monkeypatch):
    tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "out"
    assert cli("terraform", "export", "--all", "jobs", "--output-dir", out_dir)[0] == 0
    mine = out_dir / "acme" / "prod" / "handwritten.tfvars"
    mine.write_text("region = \"eu-west-1\"\n")
    (out_dir / "acme" / "prod" / "old.tfvars.json").write_text('{"note": "mine"}\n')
    stale = out_dir / "acme" / "prod" / "removed-job.tfvars"
    stale.write_text((out_dir / "acme" / "prod" / "stripe-customers-aws.tfvars").read_text())  # an export of a job now gone
    code, out, err = cli("terraform", "export", "--all", "jobs", "--output-dir", out_dir, "--clean", "--json")
    assert code == 0, out + err
    assert json.loads(out)["removed"] == [str(stale)]
    assert mine.exists() and (out_dir / "acme" / "prod" / "old.tfvars.json").exists()

    (tmp_path / "Pulumi.acme-prod.yaml").write_text("config: [\n")  # a typo in a stack file: every acme prod job fails
    before = sorted(p for p in out_dir.rglob("*") if p.is_file())
    code, out, err = cli("terraform", "export", "--all", "jobs", "--output-dir", out_dir, "--clean", "--json")
    assert code == 2 and json.loads(out)["removed"] == []
    assert sorted(p for p in out_dir.rglob("*") if p.is_file()) == before
