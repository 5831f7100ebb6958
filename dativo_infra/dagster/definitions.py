"""``defs``: the fleet's Dagster definitions, configured from the environment (:mod:`.settings`).

``DATIVO_EXECUTOR`` picks where steps run: ``multiprocess`` (default: a process
per step, so per stack), ``in_process``, or ``k8s`` (dagster-k8s's ``k8s_job_executor``:
a pod per step; it takes the image, namespace and secrets of the ``K8sRunLauncher``
in dagster.yaml, and ``DATIVO_K8S_EXECUTOR_CONFIG`` may name a YAML file of its
own config, see examples/dagster/k8s/). A run is one partition, one stack.
"""
from __future__ import annotations

import os
from typing import Optional

import dagster as dg

from ..errors import ConfigError, Problem
from .assets import DativoFleet, fleet_job, operation_job, stack_asset
from .sensors import auto_apply_sensor, stack_partitions_sensor
from .settings import OPERATIONS, FleetSettings

__all__ = ["EXECUTORS", "build_definitions", "defs"]

EXECUTORS = ("multiprocess", "in_process", "k8s")


def _k8s_config(path: str) -> dict:
    import yaml

    from ..jobs.files import read_regular_file

    try:
        config = yaml.safe_load(read_regular_file(path, "executor config").decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, f"not valid YAML: {exc}", field="DATIVO_K8S_EXECUTOR_CONFIG")]) from None
    if not isinstance(config, dict):
        raise ConfigError([Problem(path, "must be a mapping: the k8s_job_executor's config", field="DATIVO_K8S_EXECUTOR_CONFIG")])
    from dagster._config import process_config  # Dagster checks an executor's config only when a run starts: check it at load
    from dagster_k8s import k8s_job_executor

    checked = process_config(k8s_job_executor.config_schema.config_type, config)
    if not checked.success:
        raise ConfigError([Problem(path, e.message.split(" Expected: ", 1)[0], field="DATIVO_K8S_EXECUTOR_CONFIG") for e in checked.errors or ()])
    return config


def _executor(name: str, k8s_config: Optional[str] = None) -> dg.ExecutorDefinition:
    if name == "k8s":
        from dagster_k8s import k8s_job_executor  # only there: the local fleet needs no Kubernetes client

        return k8s_job_executor.configured(_k8s_config(k8s_config), name="k8s") if k8s_config else k8s_job_executor
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    raise ConfigError([Problem("DATIVO_EXECUTOR", f"{name!r} is not an executor; use one of: {', '.join(EXECUTORS)}")])


def build_definitions(settings: FleetSettings, executor: str = "multiprocess", k8s_config: Optional[str] = None) -> dg.Definitions:
    """The definitions for these settings; reading them reads no job file (a broken tree never stops the load)."""
    return dg.Definitions(
        assets=[stack_asset],
        jobs=[fleet_job(settings), *(operation_job(operation, settings) for operation in OPERATIONS)],
        sensors=[stack_partitions_sensor, auto_apply_sensor],
        resources={"dativo": DativoFleet.from_settings(settings)},
        executor=_executor(executor, k8s_config),
    )


defs = build_definitions(FleetSettings.from_env(), (os.environ.get("DATIVO_EXECUTOR") or "multiprocess").strip().lower(),
                         os.environ.get("DATIVO_K8S_EXECUTOR_CONFIG") or None)
