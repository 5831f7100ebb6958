"""dativo_infra.dagster: the definitions load, every example stack plans in process, a broken tenant fails alone,
lock conflicts are retried and nothing else is."""
from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dativo_infra import automation
from dativo_infra.dagster import FleetSettings, build_definitions, find_stacks, stack_partitions
from dativo_infra.dagster.assets import PARTITIONS_NAME, DativoFleet, operation_job, stack_asset
from dativo_infra.fleet import discover_stacks
from dativo_infra.stack import Project

from .conftest import JOBS, ROOT

EXAMPLE_STACKS = ["acme-prod", "globex-prod", "globex-staging"]
BROKEN_JOB = """\
tenant_id: broken
environment: prod
source_connector: stripe
source_connector_path: /app/connectors/stripe.yaml
target_connector: iceberg
target_connector_path: /app/connectors/iceberg.yaml
infrastructure:
  provider: mars
  runtime:
    type: ecs
"""


def copy_project(root: Path) -> Path:
    """The repository's project (Pulumi.yaml, the stack files, jobs/) under ``root``."""
    for stack_file in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, root / stack_file.name)
    shutil.copytree(JOBS, root / "jobs")
    return root


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory) -> Path:
    """The example project plus a tenant whose job file is invalid and one whose tenant_id cannot name a partition."""
    root = copy_project(tmp_path_factory.mktemp("fleet"))
    (root / "jobs" / "broken").mkdir()
    (root / "jobs" / "broken" / "bad_provider.yaml").write_text(BROKEN_JOB, encoding="utf-8")
    (root / "jobs" / "odd").mkdir()
    (root / "jobs" / "odd" / "bad_name.yaml").write_text(BROKEN_JOB.replace("tenant_id: broken", "tenant_id: Odd_Tenant"), encoding="utf-8")
    return root


def settings_for(root: Path, mode: str = "plan") -> FleetSettings:
    return FleetSettings(project_dir=str(root), jobs_dir=str(root / "jobs"), assets_dir=str(root / "jobs" / "assets"), mode=mode)


def instance_with(keys) -> dg.DagsterInstance:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PARTITIONS_NAME, list(keys))
    return instance


def test_partitions_are_the_stacks_plan_all_finds(monkeypatch):
    monkeypatch.chdir(ROOT)
    for name in ("DATIVO_JOBS_DIR", "DATIVO_PROJECT_DIR", "DATIVO_ASSETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    expected = [s.name for s in discover_stacks("jobs", project=Project(".")).stacks]
    assert stack_partitions() == expected == EXAMPLE_STACKS
    monkeypatch.setenv("DATIVO_JOBS_DIR", str(JOBS / "globex"))
    assert stack_partitions() == ["globex-prod", "globex-staging"]


def test_the_module_loads_as_dagster_loads_it():
    from dagster._core.workspace.autodiscovery import loadable_targets_from_python_module

    targets = loadable_targets_from_python_module("dativo_infra.dagster", working_directory=str(ROOT))
    assert [t.attribute for t in targets] == ["defs"]
    defs = targets[0].target_definition
    dg.Definitions.validate_loadable(defs)
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"dativo_fleet", "dativo_plan", "dativo_preview", "dativo_up", "dativo_refresh"}
    assert {s.name for s in defs.get_repository_def().sensor_defs} == {"dativo_stack_partitions", "dativo_auto_apply"}


def test_a_bad_mode_or_executor_is_named():
    from dativo_infra.errors import ConfigError

    with pytest.raises(ConfigError, match="DATIVO_FLEET_MODE.*'destroy' is not a fleet mode"):
        FleetSettings.from_env({"DATIVO_FLEET_MODE": "destroy"})
    with pytest.raises(ConfigError, match="DATIVO_EXECUTOR.*'slurm'"):
        build_definitions(FleetSettings(), "slurm")
    assert FleetSettings.from_env({"DATIVO_FLEET_MODE": " UP "}).mode == "up"


def test_every_example_stack_plans_in_process(tmp_path):
    root = copy_project(tmp_path)
    resources = {"dativo": DativoFleet.from_settings(settings_for(root))}
    instance = instance_with(EXAMPLE_STACKS)
    for key in EXAMPLE_STACKS:
        result = dg.materialize([stack_asset], instance=instance, resources=resources, partition_key=key)
        assert result.success
        [materialization] = result.asset_materializations_for_node("dativo__stack")
        meta = {k: v.value for k, v in materialization.metadata.items()}
        assert meta["dativo/operation"] == "plan"
        assert meta["resources"] > 0 and meta["resources"] == sum(meta["resources_by_job"].values()) == sum(meta["resources_by_type"].values())
        assert meta["jobs"] == len(meta["outputs"]) and meta["summary"] == f"{meta['resources']} resources in {meta['jobs']} jobs"
        tags = instance.get_run_by_id(result.run_id).tags
        tenant, environment = key.split("-", 1)
        assert {k: tags[k] for k in ("dativo/stack", "dativo/tenant", "dativo/environment", "dativo/operation")} == {
            "dativo/stack": key, "dativo/tenant": tenant, "dativo/environment": environment, "dativo/operation": "plan"}
        # the stack's tags: those every job carries alike, as labels (which Dagster's tag rules follow)
        assert tags["dativo.io/tenant"] == tenant and tags["dativo.io/managed-by"] == "dativo-infra"
    assert tags.get("dativo/gcp-project") is None  # globex-staging names no GCP project; acme-prod does:
    assert instance.get_runs(filters=dg.RunsFilter(tags={"dativo/stack": "acme-prod"}))[0].tags["dativo/gcp-project"] == "acme-project"


def test_a_broken_tenant_fails_alone(broken_project):
    found = find_stacks(settings_for(broken_project))
    assert found.keys == sorted(["broken-prod", *EXAMPLE_STACKS])
    [bad_name] = found.problems
    assert bad_name.file.endswith("odd/bad_name.yaml") and "'Odd_Tenant' cannot name a stack partition" in bad_name.message
    resources = {"dativo": DativoFleet.from_settings(settings_for(broken_project))}
    instance = instance_with(found.keys)
    outcome = {}
    for key in found.keys:
        result = dg.materialize([stack_asset], instance=instance, resources=resources, partition_key=key, raise_on_error=False)
        outcome[key] = result.success
        if not result.success:
            [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
            meta = failure.step_failure_data.user_failure_data.metadata
            assert meta["retryable"].value is False
            assert any(e["file"].endswith("broken/bad_provider.yaml") and "mars" in e["message"] for e in meta["errors"].value)
            assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert outcome == {"broken-prod": False, **dict.fromkeys(EXAMPLE_STACKS, True)}


def test_a_partition_with_no_stack_fails_with_the_folder_named(tmp_path):
    root = copy_project(tmp_path)
    result = dg.materialize([stack_asset], instance=instance_with(["gone-prod"]), partition_key="gone-prod", raise_on_error=False,
                            resources={"dativo": DativoFleet.from_settings(settings_for(root))})
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "no stack 'gone-prod' here" in failure.step_failure_data.user_failure_data.description


def _operation_result(operation: str, stack: str) -> automation.OperationResult:
    tenant, environment = stack.split("-", 1)
    return automation.OperationResult(operation, stack, tenant, environment, {"create": 2, "same": 3}, {"job-a": {"tags": {"dativo:tenant": tenant}}},
                                      1.0, "file:///state", "/tmp/ws")


def test_a_lock_conflict_is_retried_and_a_program_error_is_not(tmp_path, monkeypatch):
    """Pulumi is replaced here (no CLI on this machine): what is checked is how its outcomes become Dagster retries."""
    root = copy_project(tmp_path)
    calls = []

    def locked_once(settings, options, on_output=None):
        calls.append(settings.stack_name)
        if len(calls) == 1:
            raise automation.StackLockedError("another update holds this stack's lock", settings.stack_name)
        return _operation_result("up", settings.stack_name)

    monkeypatch.setattr(automation, "up", locked_once)
    settings = settings_for(root, "up")
    job = operation_job("up", settings, dg.RetryPolicy(max_retries=2, delay=0))
    resources = {"dativo": DativoFleet.from_settings(settings)}
    result = job.execute_in_process(instance=instance_with(EXAMPLE_STACKS), resources=resources, partition_key="globex-prod")
    assert result.success and calls == ["globex-prod", "globex-prod"]
    [retry] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    [done] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    meta = {k: v.value for k, v in done.materialization.metadata.items()}
    assert meta["changes"] == {"create": 2, "same": 3} and meta["resources"] == 5 and meta["changed"] == 2 and meta["summary"] == "2 created, 3 unchanged"

    calls.clear()

    def program_error(settings, options, on_output=None):
        calls.append(settings.stack_name)
        raise automation.ProgramFailedError("the program failed: KeyError: 'x'", settings.stack_name)

    monkeypatch.setattr(automation, "up", program_error)
    result = job.execute_in_process(instance=instance_with(EXAMPLE_STACKS), resources=resources, partition_key="globex-prod", raise_on_error=False)
    assert not result.success and calls == ["globex-prod"]
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]


def test_every_run_of_a_stack_carries_its_tags_before_it_is_queued(tmp_path):
    """Runs launched from the UI or a backfill get the stack's tags from the job's partitioned config: the queue's limits see them."""
    root = copy_project(tmp_path)
    defs = build_definitions(settings_for(root, "preview"))
    fleet = defs.resolve_job_def("dativo_fleet")
    tags = fleet.get_tags_for_partition_key("acme-prod", None)
    assert {k: v for k, v in tags.items() if k.startswith("dativo/")} == {
        "dativo/stack": "acme-prod", "dativo/tenant": "acme", "dativo/environment": "prod", "dativo/operation": "preview",
        "dativo/gcp-project": "acme-project"}
    assert defs.resolve_job_def("dativo_refresh").get_tags_for_partition_key("globex-staging", None)["dativo/operation"] == "refresh"
    assert {k: v for k, v in fleet.get_tags_for_partition_key("gone-prod", None).items() if k.startswith("dativo/")} == {"dativo/operation": "preview"}


def test_the_cost_is_the_estimate_of_dativo_infra_cost(tmp_path, cli):
    """The run's cost metadata is `dativo-infra cost`'s estimate of the same stack (the Kubernetes nodes priced by the stack)."""
    import json

    root = copy_project(tmp_path)

    def node_prices(stack: str, value: str = "") -> None:  # whatever the example stack files say about them
        path = root / f"Pulumi.{stack}.yaml"
        lines = [line for line in path.read_text().splitlines(keepends=True) if "dativo-infra:nodePrices" not in line]
        path.write_text("".join(lines) + (f"  dativo-infra:nodePrices: {value}\n" if value else ""))

    node_prices("acme-prod", '{vcpuHour: "0.0445", gibHour: "0.0049"}')
    node_prices("globex-prod")
    code, out, _ = cli("cost", root / "jobs", "--tenant", "acme", "--environment", "prod", "--project-dir", root,
                       "--assets-dir", root / "jobs" / "assets", "--json")
    assert code == 0, out
    expected = json.loads(out)
    instance = instance_with(["acme-prod", "globex-prod"])
    resources = {"dativo": DativoFleet.from_settings(settings_for(root))}
    result = dg.materialize([stack_asset], instance=instance, resources=resources, partition_key="acme-prod")
    meta = {k: v.value for k, v in result.asset_materializations_for_node("dativo__stack")[0].metadata.items()}
    assert meta["cost_by_job"] == {j["job"]: f"{j['monthly_cost']:.2f}" for j in expected["jobs"]}
    assert meta["monthly_cost"] == pytest.approx(float(expected["total"])) and meta["cost_currency"] == expected["currency"] == "USD"
    assert "cost_problems" not in meta
    # a job the tables cannot price (globex-prod's AKS nodes, without node prices) is named; the plan still succeeds, with no total
    result = dg.materialize([stack_asset], instance=instance, resources=resources, partition_key="globex-prod")
    meta = {k: v.value for k, v in result.asset_materializations_for_node("dativo__stack")[0].metadata.items()}
    assert result.success and "monthly_cost" not in meta
    assert [p.split(":", 1)[0].endswith("globex/hubspot_contacts_aks.yaml") for p in meta["cost_problems"]] == [True]


def test_only_the_definitions_import_dagster():
    """The CLI never pays for Dagster, and stack_partitions() needs none."""
    import subprocess
    import sys

    code = ("import sys, dativo_infra.cli, dativo_infra.dagster as d; keys = d.stack_partitions(); "
            "assert keys and 'dagster' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dagster')); "
            "d.defs; assert 'dagster' in sys.modules and 'dagster_k8s' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_broken_stack_file_fails_its_stack_alone(tmp_path):
    """`plan --all` stops at a stack file it cannot read; the partitions keep every stack, and only that one fails."""
    root = copy_project(tmp_path)
    (root / "Pulumi.globex-prod.yaml").write_text("config: [unclosed\n")
    found = find_stacks(settings_for(root))
    assert found.keys == EXAMPLE_STACKS and [p.file for p in found.problems] == [str(root / "Pulumi.globex-prod.yaml")]
    resources = {"dativo": DativoFleet.from_settings(settings_for(root))}
    instance = instance_with(EXAMPLE_STACKS)
    outcome = {key: dg.materialize([stack_asset], instance=instance, resources=resources, partition_key=key, raise_on_error=False)
               for key in ("globex-prod", "globex-staging")}
    assert {key: result.success for key, result in outcome.items()} == {"globex-prod": False, "globex-staging": True}
    [failure] = [e for e in outcome["globex-prod"].all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "Pulumi.globex-prod.yaml:2:1: not valid YAML" in failure.step_failure_data.user_failure_data.description


def test_a_mode_given_in_run_config_is_checked_before_anything_runs():
    result = dg.materialize([stack_asset], instance=instance_with(["acme-prod"]), partition_key="acme-prod", raise_on_error=False,
                            resources={"dativo": DativoFleet(mode="destroy")})
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "DATIVO_FLEET_MODE: 'destroy' is not a fleet mode" in failure.step_failure_data.user_failure_data.description
