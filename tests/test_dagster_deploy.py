"""The example Dagster deployments (examples/dagster/) against Dagster's and dagster-k8s's own config schemas."""
from __future__ import annotations

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.workspace.config_schema import ensure_workspace_config
from dagster_k8s import K8sRunLauncher, k8s_job_executor

from dativo_infra.dagster import FleetSettings, build_definitions
from dativo_infra.dagster.stacks import ACCOUNT_TAGS, TAG_PREFIX
from dativo_infra.errors import ConfigError

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "dagster"
DOCS = ROOT / "docs" / "dagster.md"


def load(name: str):
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def errors_of(config_type, value) -> list[str]:
    result = process_config(config_type, value)
    return [] if result.success else [e.message for e in result.errors]


@pytest.mark.parametrize("where", ["local", "k8s"])
def test_the_instance_config_is_valid(where, monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_USERNAME", "dagster")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "secret")
    config, _ = dagster_instance_config(str(EXAMPLES / where))  # Dagster's own schema of dagster.yaml
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    # every limit is on a tag the fleet's runs carry from their creation
    assert {limit["key"] for limit in limits} == {"dagster/partition", f"{TAG_PREFIX}/tenant", *ACCOUNT_TAGS}
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert config["run_retries"] == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}


def test_the_k8s_run_launcher_config_is_dagster_k8s_s():
    launcher = load("k8s/dagster.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert errors_of(K8sRunLauncher.config_type(), launcher["config"]) == []
    assert errors_of(K8sRunLauncher.config_type(), {**launcher["config"], "env_secret": ["x"]})  # the check does check


def test_the_k8s_executor_config_is_dagster_k8s_s(monkeypatch):
    config = load("k8s/executor.yaml")
    assert errors_of(k8s_job_executor.config_schema.config_type, config) == []
    defs = build_definitions(FleetSettings(), "k8s", str(EXAMPLES / "k8s" / "executor.yaml"))
    job = defs.resolve_job_def("dativo_up")
    assert job.executor_def.name == "k8s" and job.executor_def is not k8s_job_executor  # configured with the file
    assert build_definitions(FleetSettings(), "k8s").executor is k8s_job_executor  # without it: all from the run launcher


def test_a_wrong_k8s_executor_config_is_refused_at_load(tmp_path):
    bad = tmp_path / "executor.yaml"
    bad.write_text("job_namespace: fleet\nmax_concurent: 1\n")
    with pytest.raises(ConfigError, match=r'executor.yaml: DATIVO_K8S_EXECUTOR_CONFIG: Received unexpected config entry "max_concurent"'):
        build_definitions(FleetSettings(), "k8s", str(bad))


@pytest.mark.parametrize("where", ["local", "k8s"])
def test_the_workspace_is_valid(where):
    path = EXAMPLES / where / "workspace.yaml"
    config = ensure_workspace_config(yaml.safe_load(path.read_text()), str(path))
    [location] = config["load_from"]
    target = location.get("python_module") or location.get("grpc_server")
    assert target["location_name"] == "dativo-fleet"
    if where == "local":
        assert target["module_name"] == "dativo_infra.dagster"


def test_the_docs_name_every_setting_the_code_reads():
    import inspect
    import re

    from dativo_infra.dagster import definitions, settings

    text = DOCS.read_text(encoding="utf-8")
    read = {name for module in (settings, definitions) for name in re.findall(r'"(DATIVO_[A-Z0-9_]+)"', inspect.getsource(module))}
    assert read == {"DATIVO_JOBS_DIR", "DATIVO_ASSETS_DIR", "DATIVO_FLEET_MODE", "DATIVO_PROJECT_DIR", "DATIVO_SECRETS_PROVIDER",
                    "DATIVO_EXECUTOR", "DATIVO_K8S_EXECUTOR_CONFIG"}
    assert [name for name in sorted(read) if f"`{name}`" not in text] == []
