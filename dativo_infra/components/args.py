"""Typed arguments of the job components: one frozen dataclass per runtime.

Each class has one field per variable of its runtime, named exactly as in
:data:`dativo_infra.variables.COMMON_VARIABLES` and
:data:`~dativo_infra.variables.RUNTIME_VARIABLES` (tests/test_component_args.py
keeps the two equal), and is built only by :meth:`CommonArgs.from_variables`
from a resolved job's flat variables: those stay the one source of truth,
shared with the Terraform export, and nothing here computes a value again.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Optional, TypeVar, Union

__all__ = ["CloudRunArgs", "CommonArgs", "ContainerAppsArgs", "EcsArgs", "KubernetesArgs", "RUNTIME_ARGS", "fields_of"]

A = TypeVar("A", bound="CommonArgs")


@functools.cache
def _names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


@dataclass(frozen=True)
class CommonArgs:
    """What every job has, whatever its runtime."""

    cloud_provider: str
    command: list[str]
    compute_cpu: float  # vCPUs: a whole number is an int (1), else a float (0.25)
    compute_memory: int  # MiB
    container_name: str
    environment: str
    finops_estimate: dict[str, Optional[float]]  # cost-estimate inputs (docs/cost.md); no resource uses them
    image: str
    job_name: str
    max_retries: int
    max_runtime_seconds: int
    name_prefix: str
    region: str
    required_tag_keys: list[str]
    retry_delay_seconds: float  # an int when whole
    runtime_type: str
    schedule_cron: str  # "" when unscheduled
    schedule_timezone: str
    service_account: str  # "" when the component creates the job's identity
    storage_bucket: str  # "" without storage; on Azure "account/container"
    storage_create_bucket: bool
    storage_kms_key_id: str
    storage_prefix: str
    tags: dict[str, str]  # in the format of cloud_provider
    tenant_id: str

    @classmethod
    def from_variables(cls: type[A], variables: Mapping[str, Any]) -> A:
        """The arguments of a job from its flat variables (``ResolvedJob.variables``): exactly this class's names.

        Raises :class:`ValueError` naming every missing and every unknown variable:
        either means this class and :mod:`dativo_infra.variables` have drifted apart.
        """
        names = _names(cls)  # type: ignore[arg-type]  # a class is hashable; mypy checks its instances' __hash__ (frozen dataclass)
        missing, unknown = sorted(names - variables.keys()), sorted(variables.keys() - names)
        if missing or unknown:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])
            raise ValueError(f"{cls.__name__}: the variables do not match its fields ({'; '.join(problems)})")
        return cls(**variables)


@dataclass(frozen=True)
class EcsArgs(CommonArgs):
    """``ecs``: an ECS Fargate task, scheduled by EventBridge Scheduler."""

    assign_public_ip: bool
    cluster_name: str
    cpu_architecture: str  # X86_64 or ARM64
    cpu_units: int
    create_cluster: bool
    ephemeral_storage_gib: Optional[int]  # None: Fargate's included 20 GiB
    log_group_name: str
    log_retention_days: int
    schedule_expression: str  # EventBridge Scheduler's cron(...); "" when unscheduled
    security_group_ids: list[str]
    stop_timeout_seconds: int
    subnet_ids: list[str]
    vpc_id: str


@dataclass(frozen=True)
class CloudRunArgs(CommonArgs):
    """``cloud_run``: a Cloud Run (v2) job, scheduled by Cloud Scheduler."""

    cpu_limit: str
    memory_limit: str
    network: str
    subnetwork: str
    vpc_egress: str


@dataclass(frozen=True)
class ContainerAppsArgs(CommonArgs):
    """``container_apps``: an Azure Container Apps job in an existing managed environment."""

    cpu_cores: float
    environment_name: str
    memory_size: str
    resource_group: str
    storage_account: str
    storage_container: str


@dataclass(frozen=True)
class KubernetesArgs(CommonArgs):
    """``kubernetes``: a CronJob on EKS, GKE or AKS, with the cloud identity of its ServiceAccount."""

    cluster_name: str
    create_namespace: bool
    labels: dict[str, str]  # the job's tags as Kubernetes labels
    limit_cpu: str
    limit_memory: str
    namespace: str
    request_cpu: str
    request_memory: str
    required_label_keys: list[str]
    resource_group: str


# effective runtime → its arguments (the keys of RUNTIME_VARIABLES)
RUNTIME_ARGS: dict[str, type[CommonArgs]] = {
    "ecs": EcsArgs,
    "cloud_run": CloudRunArgs,
    "container_apps": ContainerAppsArgs,
    "kubernetes": KubernetesArgs,
}


class _MappingFields:
    """Attribute access to variables held in a mapping (a whole set, a part of one, or one with more names)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no variable {name!r} among {', '.join(sorted(self._values)) or 'none'}") from None


def fields_of(a: Union[A, Mapping[str, Any]], cls: type[A]) -> A:
    """``a`` itself when it is a ``cls``; a mapping of variables read by attribute, as a ``cls`` would be.

    For the pure document functions (an IAM policy, a role assignment's name,
    the Dagster tag), which also take the flat variables as the Terraform
    export writes them, so that both sides can be compared.
    """
    if isinstance(a, cls):
        return a
    if isinstance(a, Mapping):
        return _MappingFields(a)  # type: ignore[return-value]  # reads as a cls, by attribute
    raise TypeError(f"expected {cls.__name__} or a mapping of variables, got {type(a).__name__}")
