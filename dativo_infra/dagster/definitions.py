"""``defs``: the fleet's Dagster definitions, configured from the environment (:mod:`.settings`).

``DATIVO_EXECUTOR`` picks where steps run: ``multiprocess`` (default: a process
per step, so per stack) or ``k8s`` (dagster-k8s's ``k8s_job_executor``: a pod
per step; it takes the image, namespace and secrets of the ``K8sRunLauncher`` in
dagster.yaml, see examples/dagster/k8s/). A run is one partition, one stack.
"""
from __future__ import annotations

import os

import dagster as dg

from ..errors import ConfigError, Problem
from .assets import DativoFleet, fleet_job, operation_job, stack_asset
from .sensors import auto_apply_sensor, stack_partitions_sensor
from .settings import OPERATIONS, FleetSettings

__all__ = ["EXECUTORS", "build_definitions", "defs"]

EXECUTORS = ("multiprocess", "in_process", "k8s")


def _executor(name: str) -> dg.ExecutorDefinition:
    if name == "k8s":
        from dagster_k8s import k8s_job_executor  # only there: the local fleet needs no Kubernetes client

        return k8s_job_executor
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    raise ConfigError([Problem("DATIVO_EXECUTOR", f"{name!r} is not an executor; use one of: {', '.join(EXECUTORS)}")])


def build_definitions(settings: FleetSettings, executor: str = "multiprocess") -> dg.Definitions:
    """The definitions for these settings; reading them reads no job file (a broken tree never stops the load)."""
    return dg.Definitions(
        assets=[stack_asset],
        jobs=[fleet_job(settings), *(operation_job(operation, settings) for operation in OPERATIONS)],
        sensors=[stack_partitions_sensor, auto_apply_sensor],
        resources={"dativo": DativoFleet.from_settings(settings)},
        executor=_executor(executor),
    )


defs = build_definitions(FleetSettings.from_env(), (os.environ.get("DATIVO_EXECUTOR") or "multiprocess").strip().lower())
