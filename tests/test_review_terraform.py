"""Review of ``dativo-infra terraform scaffold``: hostile file names, things planted in the output folder, module
sources, and jobs unlike the examples (other tenants, odd names, free-form variables, hostile backend settings)."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest

from .conftest import JOBS, ROOT
from .test_scaffold import LOCAL, module_problems, root_values, scaffold
from .tfconsole import fmt_check

GCP_JOB = JOBS / "acme" / "stripe_customers_gcp.yaml"
AWS_JOB = JOBS / "acme" / "stripe_customers_aws.yaml"
AWS_ROOT = ("acme", "prod", "stripe-customers-aws")


def _memory_cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a process of its own, with a time and memory limit: a scaffold that blocks (on a pipe) or reads without end
    fails the test instead of hanging it or exhausting the machine."""
    return subprocess.run([sys.executable, "-c", "from dativo_infra.entry import main; main()", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_memory_cap)


def test_a_line_break_in_the_job_file_name_stays_in_the_comment(cli, tmp_path):
    """The header names the job file; a tenant's file name with a line break must not put HCL into the root."""
    job = tmp_path / "jobs" / "acme" / 'x\noutput "injected" {\n  value = 1\n}\n#.yaml'
    job.parent.mkdir(parents=True)
    job.write_text(GCP_JOB.read_text(encoding="utf-8"), encoding="utf-8")
    report = scaffold(cli, "--config", str(job), "--output-dir", str(tmp_path / "out"), "--assets-dir", str(JOBS / "assets"))
    root = Path(report["roots"][0]["directory"])
    for path in sorted(root.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        assert 'output "injected"' not in text.replace('# output "injected"', ""), path
        parsed = {k: v for k, v in hcl2.loads(text).items() if k != "__comments__"}
        assert "injected" not in json.dumps(parsed), path
        assert fmt_check(path) is None, path


def test_a_pipe_in_the_root_is_refused_without_blocking(tmp_path):
    directory = tmp_path.joinpath(*AWS_ROOT)
    directory.mkdir(parents=True)
    os.mkfifo(directory / "main.tf")
    proc = run_cli("terraform", "scaffold", "--config", str(AWS_JOB), "--output-dir", str(tmp_path), "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 2 and not report["ok"] and "main.tf is not a regular file" in json.dumps(report["errors"]) or \
        report["errors"][0]["file"].endswith("main.tf"), proc.stdout + proc.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["main.tf"]  # nothing else written: no half a root


def test_a_folder_in_place_of_a_file_writes_nothing(cli, tmp_path):
    """Once any name of the root cannot be written, none is: the next run would take a lone file for someone's."""
    directory = tmp_path.joinpath(*AWS_ROOT)
    (directory / "variables.tf").mkdir(parents=True)
    code, out, _ = cli("terraform", "scaffold", "--config", str(AWS_JOB), "--output-dir", str(tmp_path), "--json")
    report = json.loads(out)
    assert code == 2 and report["errors"][0]["file"].endswith("variables.tf") and "not a regular file" in report["errors"][0]["message"]
    assert sorted(p.name for p in directory.iterdir()) == ["variables.tf"]
    (directory / "variables.tf").rmdir()
    assert sorted(scaffold(cli, "--config", str(AWS_JOB), "--output-dir", str(tmp_path))["roots"][0]["written"]) == [
        "backend.tf", "main.tf", "providers.tf", "terraform.tfvars", "variables.tf"]


def test_a_manifest_linked_to_a_device_is_not_read(tmp_path):
    """A planted link at .dativo-scaffold.json (to /dev/zero: reading it never ends) is neither read nor written through."""
    directory = tmp_path.joinpath(*AWS_ROOT)
    directory.mkdir(parents=True)
    (directory / ".dativo-scaffold.json").symlink_to("/dev/zero")
    proc = run_cli("terraform", "scaffold", "--config", str(AWS_JOB), "--output-dir", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)["roots"][0]
    assert len(report["written"]) == 5 and not (directory / ".dativo-scaffold.json").is_symlink()
    assert set(json.loads((directory / ".dativo-scaffold.json").read_text(encoding="utf-8"))) == set(report["written"])


def test_a_manifest_nested_too_deep_is_a_fresh_start(cli, tmp_path):
    directory = tmp_path.joinpath(*AWS_ROOT)
    directory.mkdir(parents=True)
    (directory / ".dativo-scaffold.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert len(scaffold(cli, "--config", str(AWS_JOB), "--output-dir", str(tmp_path))["roots"][0]["written"]) == 5


def test_a_file_that_is_not_utf8_is_kept(cli, tmp_path):
    """A team's own providers.tf in Latin-1 is someone's file like any other: kept, not replaced."""
    directory = tmp_path.joinpath(*AWS_ROOT)
    directory.mkdir(parents=True)
    mine = '# r\xe9gion\nprovider "aws" {}\n'.encode("latin-1")
    (directory / "providers.tf").write_bytes(mine)
    report = scaffold(cli, "--config", str(AWS_JOB), "--output-dir", str(tmp_path))["roots"][0]
    assert report["kept"] == ["providers.tf"] and (directory / "providers.tf").read_bytes() == mine


@pytest.mark.parametrize("base, source", [
    ("./", "./kubernetes-job"),
    ("/", "/kubernetes-job"),
    (".", "./kubernetes-job"),
    ("app.terraform.io/acme/dativo-jobs/multi", "app.terraform.io/acme/dativo-jobs/multi//modules/kubernetes-job"),
])
def test_every_kind_of_source_base_gives_a_formatted_call(cli, tmp_path, base, source):
    report = scaffold(cli, "--config", str(JOBS / "acme" / "salesforce_accounts_gke.yaml"), "--output-dir", str(tmp_path),
                      "--module-source-base", base)
    main = Path(report["roots"][0]["directory"]) / "main.tf"
    assert f'= "{source}"' in main.read_text(encoding="utf-8") and fmt_check(main) is None


@pytest.mark.parametrize("base", ["git::https://h/r.git\x01", "git::https://h/r\x7f", "a\u2028b", "x${y}", 'a"b', "a\nb", ""])
def test_a_source_base_that_hcl_would_not_read_as_given_is_refused(cli, tmp_path, base):
    code, out, err = cli("terraform", "scaffold", "--config", str(AWS_JOB), "--output-dir", str(tmp_path), "--module-source-base", base)
    assert code == 2 and "--module-source-base takes an address" in out + err and not list(tmp_path.iterdir())


ODD_JOB = """\
tenant_id: umbrella-co
environment: qa-2
source_connector: stripe
source_connector_path: /app/connectors/stripe.yaml
target_connector: iceberg
target_connector_path: /app/connectors/iceberg.yaml
asset: stripe_customers
asset_path: /app/assets/stripe/v1.0/customers.yaml
source: {objects: [customers]}
target: {branch: x, warehouse: "s3://x/"}
infrastructure:
  provider: aws
  region: eu-west-1
  runtime: {type: ecs, cluster_name: c1, schedule: "0 1 * * *"}
  compute: {cpu: "512", memory: "1024"}
  networking: {vpc_id: vpc-1, subnet_ids: [subnet-1]}
  storage: {bucket: umbrella-lake, prefix: raw/a}
  tags: {Team: "x y"}
  terraform:
    variables:
      extra_string: "has %{if} and \\"quotes\\" and \\\\ back"
      extra_nested: {a: [1, 2], b: {c: true}}
      extra-list: [x, y]
    backend_config:
      bucket: "st\\"ate ${var.x} %{ for } \\nnl"
      key: a/b.tfstate
      encrypt: true
      max_retries: 5
"""


def test_a_job_unlike_the_examples_gives_a_root_terraform_reads(cli, tmp_path):
    """Another tenant, an odd file name, free-form variables of every shape and hostile backend settings."""
    job = tmp_path / "jobs" / "umbrella-co" / "Odd.Job-Name.yml"
    job.parent.mkdir(parents=True)
    job.write_text(ODD_JOB, encoding="utf-8")
    args = ("--all", str(tmp_path / "jobs"), "--output-dir", str(tmp_path / "out"), "--assets-dir", str(JOBS / "assets"),
            "--module-source-base", LOCAL)
    report = scaffold(cli, *args)
    root = Path(report["roots"][0]["directory"])
    assert root == tmp_path / "out" / "umbrella-co" / "qa-2" / "odd-job-name"
    assert all(fmt_check(p) is None for p in root.glob("*.tf*"))
    values = root_values(root)  # terraform console: every exported variable declared, every required one given
    assert values["extra_string"] == 'has %{if} and "quotes" and \\ back' and values["extra_nested"] == {"a": [1, 2], "b": {"c": True}}
    assert module_problems(root, tmp_path / "tf") == []
    [backend] = hcl2.loads((root / "backend.tf").read_text(encoding="utf-8"))["terraform"][0]["backend"]
    assert list(backend) == ['"s3"'] and sorted(k for k in backend['"s3"'] if not k.startswith("__")) == ["bucket", "encrypt", "key", "max_retries"]
    assert backend['"s3"']["bucket"] == '"st\\"ate $${var.x} %%{ for } \\nnl"'  # escaped: one string, no template, no line break
    assert scaffold(cli, *args)["roots"][0]["written"] == []


def test_a_file_the_job_no_longer_gives_is_left_and_named(cli, tmp_path):
    """backend.tf of a job whose backend_config went: not deleted (that would move the state), but said."""
    job = tmp_path / "jobs" / "acme" / "stripe_customers_aws.yaml"
    job.parent.mkdir(parents=True)
    text = AWS_JOB.read_text(encoding="utf-8")
    job.write_text(text, encoding="utf-8")
    args = ("--config", str(job), "--output-dir", str(tmp_path / "out"), "--assets-dir", str(JOBS / "assets"))
    assert "backend.tf" in scaffold(cli, *args)["roots"][0]["written"]
    start = text.index("    backend_config:\n")
    end = text.index("  dagster:\n", start)
    job.write_text(text[:start] + text[end:], encoding="utf-8")
    report = scaffold(cli, *args)["roots"][0]
    assert (Path(report["directory"]) / "backend.tf").is_file()
    assert any(w.startswith("backend.tf was written for an earlier version of the job") for w in report["warnings"])
