"""The job-file fields a cost estimate needs (docs/cost.md), by value through every way in.

``compute.architecture`` and ``compute.ephemeral_storage_gib`` provision something (the Fargate task's
runtime platform and storage), so the plan and the tfvars must agree on them; the ``finops`` estimate
inputs provision nothing, but travel in ``finops_estimate`` so that an estimate read back from tfvars
equals one from the job file. The job's finops wins over its asset's, key by key.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .test_stack_context import ECS, container, export, of_type, plan, project

ASSET = """asset:
  name: orders
  finops:
    cost_center: FIN-1
    expected_runtime_seconds: 900
    monthly_budget: 50
    expected_log_gb_per_run: 0.25
"""


def ecs_job(compute: str = "", finops: str = "") -> str:
    text = ECS.format(tenant="initech", region="  region: us-east-1\n", image="")
    text = text.replace('  compute: {cpu: "1024", memory: "2048"}\n', f'  compute: {{cpu: "1024", memory: "2048"{compute}}}\n')
    return text + "asset_path: jobs/assets/orders.yaml\n" + finops


def initech(tmp_path: Path, job: str) -> Path:
    root = project(tmp_path, {}, {"initech/orders.yaml": job})
    (root / "jobs" / "assets").mkdir()
    (root / "jobs" / "assets" / "orders.yaml").write_text(ASSET)
    return root


def test_an_arm64_task_with_more_storage_is_the_same_in_the_plan_and_the_tfvars(cli, tmp_path, monkeypatch):
    root = initech(tmp_path, ecs_job(compute=", architecture: arm64, ephemeral_storage_gib: 50"))
    monkeypatch.chdir(root)
    (task,) = of_type(plan(cli, root, "initech"), "aws:ecs/taskDefinition:TaskDefinition")
    tfvars = export(cli, root, "initech/orders.yaml")
    assert task["inputs"]["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert task["inputs"]["ephemeralStorage"] == {"sizeInGib": 50}
    assert (tfvars["cpu_architecture"], tfvars["ephemeral_storage_gib"]) == ("ARM64", 50)


def test_by_default_an_ecs_task_is_x86_with_fargates_included_storage(cli, tmp_path, monkeypatch):
    root = initech(tmp_path, ecs_job())
    monkeypatch.chdir(root)
    data = plan(cli, root, "initech")
    (task,) = of_type(data, "aws:ecs/taskDefinition:TaskDefinition")
    assert task["inputs"]["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    assert "ephemeralStorage" not in task["inputs"]
    assert container(data)["readonlyRootFilesystem"] is True
    tfvars = export(cli, root, "initech/orders.yaml")
    assert (tfvars["cpu_architecture"], tfvars["ephemeral_storage_gib"]) == ("X86_64", None)


def test_the_jobs_finops_wins_over_the_assets_key_by_key(cli, tmp_path, monkeypatch):
    root = initech(tmp_path, ecs_job(finops="finops:\n  expected_runtime_seconds: 120.5\n  monthly_budget: 0\n"))
    monkeypatch.chdir(root)
    assert export(cli, root, "initech/orders.yaml")["finops_estimate"] == {
        "expected_runtime_seconds": 120.5,  # the job's
        "monthly_budget": 0,                # the job's, though zero
        "expected_log_gb_per_run": 0.25,    # the asset's
        "expected_storage_gb_per_run": None,
    }


@pytest.mark.parametrize("compute,field,message", [
    (", architecture: arm", "architecture", "'x86_64' or 'arm64'"),
    (", ephemeral_storage_gib: 20", "ephemeral_storage_gib", "greater than or equal to 21"),
    (", ephemeral_storage_gib: 201", "ephemeral_storage_gib", "less than or equal to 200"),
    (", ephemeral_storage_gib: true", "ephemeral_storage_gib", "a whole number of GiB"),
])
def test_bad_compute_values_name_the_field(cli, tmp_path, compute, field, message):
    root = initech(tmp_path, ecs_job(compute=compute))
    code, out, err = cli("validate", root / "jobs" / "initech" / "orders.yaml", "--project-dir", root)
    assert code == 2
    assert f"infrastructure.compute.{field}" in out + err and message in out + err


@pytest.mark.parametrize("finops", ["expected_runtime_seconds: 0", "expected_runtime_seconds: .nan", "monthly_budget: -1",
                                    "expected_storage_gb_per_run: true", "expected_log_gb_per_run: lots"])
def test_bad_estimate_inputs_are_errors(cli, tmp_path, finops):
    root = initech(tmp_path, ecs_job(finops=f"finops:\n  {finops}\n"))
    code, out, err = cli("validate", root / "jobs" / "initech" / "orders.yaml", "--project-dir", root)
    assert code == 2 and f"finops.{finops.split(':')[0]}" in out + err


@pytest.mark.parametrize("job,field", [
    ("""tenant_id: initech
environment: prod
infrastructure:
  provider: gcp
  region: europe-west1
  runtime: {type: cloud_run}
  compute: {cpu: "1", memory: 2Gi, architecture: arm64}
""", "architecture"),
    ("""tenant_id: initech
environment: prod
infrastructure:
  provider: gcp
  region: europe-west1
  runtime: {type: cloud_run}
  compute: {cpu: "1", memory: 2Gi, ephemeral_storage_gib: 30}
""", "ephemeral_storage_gib"),
])
def test_fargate_only_settings_are_rejected_on_other_runtimes(cli, tmp_path, job, field):
    root = project(tmp_path, {}, {"initech/orders.yaml": job})
    code, out, err = cli("validate", root / "jobs" / "initech" / "orders.yaml", "--project-dir", root)
    assert code == 2 and f"infrastructure.compute.{field}" in out + err and "ecs" in out + err
