"""The one flat set of variables per job: the contract shared by Pulumi and Terraform.

``job_variables(job)`` is the only place where a job's settings become
concrete values (names, sizes in each runtime's own spelling, retries, tags).
The Pulumi components read this dict; the tfvars exporter writes it; the
Terraform modules declare exactly these names. Nothing derives them again.
Names are documented in docs/variables.md (kept in sync by a test).
"""
from __future__ import annotations

import os
import re
from typing import Any, Optional

from .jobs import Job, max_retries
from .jobs.rules import region_of
from .jobs.sizes import ecs_cpu_units, format_cpu, format_memory, parse_cpu, parse_memory

DEFAULT_IMAGE = "dativo/dativo-ingest:latest"  # a placeholder: set dativo-infra:image / --image / runtime.image
IMAGE_ENV = "DATIVO_IMAGE"
CONTAINER_NAME = "dativo-runner"
NAME_PREFIX_LIMIT = 26  # GCP service account IDs are ≤ 30 characters and get a 4-character suffix
LOG_RETENTION_DAYS = 30
ECS_STOP_TIMEOUT_SECONDS = 120  # Fargate's maximum
JOB_FILES_ROOT = "/app/jobs"  # where the runner image carries job files: /app/jobs/<tenant>/<file>

# variables every job has; the rest depend on the runtime (see RUNTIME_VARIABLES)
COMMON_VARIABLES = (
    "cloud_provider", "command", "compute_cpu", "compute_memory", "container_name", "environment", "image",
    "job_name", "max_retries", "max_runtime_seconds", "name_prefix", "region", "retry_delay_seconds",
    "runtime_type", "schedule_cron", "schedule_timezone", "service_account", "storage_bucket",
    "storage_create_bucket", "storage_kms_key_id", "storage_prefix", "tags", "tenant_id",
)
RUNTIME_VARIABLES = {
    "ecs": ("assign_public_ip", "cluster_name", "cpu_units", "create_cluster", "log_group_name", "log_retention_days",
            "schedule_expression", "security_group_ids", "stop_timeout_seconds", "subnet_ids", "vpc_id"),
    "cloud_run": ("cpu_limit", "memory_limit", "network", "subnetwork", "vpc_egress"),
    "container_apps": ("cpu_cores", "environment_name", "memory_size", "resource_group", "storage_account", "storage_container"),
    "kubernetes": ("cluster_name", "create_namespace", "labels", "limit_cpu", "limit_memory", "namespace",
                   "request_cpu", "request_memory", "resource_group"),
}


def name_prefix(tenant: str, environment: str, job: str) -> str:
    """Deterministic base name for physical resources, short enough for every cloud."""
    full = f"{tenant}-{environment}-{job}"
    if len(full) <= NAME_PREFIX_LIMIT:
        return full
    import hashlib  # here, not at the top: loading OpenSSL costs start-up time and most runs shorten nothing

    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: NAME_PREFIX_LIMIT - 9].rstrip('-')}-{digest}"


def aws_schedule_expression(cron: str) -> str:
    """5-field cron → EventBridge Scheduler's ``cron(min hour dom month dow year)``.

    AWS wants ``?`` in one of day-of-month/day-of-week and numbers days of the
    week 1–7 from Sunday, where cron numbers them 0–7 from Sunday.
    """
    minute, hour, dom, month, dow = cron.split()
    # day numbers only: not a step (*/2) nor the n of FRI#2 / 5#2
    dow = re.sub(r"(?<![/#\d])\d+", lambda m: str(int(m.group()) % 7 + 1), dow)
    if dow == "*":
        dow = "?"
    elif dom == "*":
        dom = "?"
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


def _number(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def resolve_image(job: Job, image: Optional[str] = None) -> str:
    infra = job.infrastructure
    return (infra.runtime.image if infra and infra.runtime.image else None) or image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def job_variables(job: Job, image: Optional[str] = None) -> dict[str, Any]:
    """The flat variables of one job with an ``infrastructure`` block, keys sorted."""
    infra = job.infrastructure
    if infra is None:
        raise ValueError(f"{job.path}: job has no infrastructure block; nothing to provision")
    config, runtime = job.config, job.runtime
    compute, net, storage = infra.compute, infra.networking, infra.storage
    schedule = infra.runtime.schedule
    op_config = infra.dagster.op_config if infra.dagster else {}
    retry_delay = op_config.get("retry_delay_seconds")
    if retry_delay is None and config.retry_config and config.retry_config.initial_delay_seconds is not None:
        retry_delay = config.retry_config.initial_delay_seconds
    out: dict[str, Any] = {
        "cloud_provider": infra.provider,
        "command": ["dativo", "run", "--config", f"{JOB_FILES_ROOT}/{config.tenant_id}/{os.path.basename(job.path)}", "--mode", "self_hosted"],
        "compute_cpu": _number(compute.cpu_millicores / 1000),
        "compute_memory": compute.memory_mib,
        "container_name": CONTAINER_NAME,
        "environment": config.environment,
        "image": resolve_image(job, image),
        "job_name": job.name,
        "max_retries": max_retries(config),
        "max_runtime_seconds": compute.max_runtime_seconds,
        "name_prefix": name_prefix(config.tenant_id, config.environment, job.name),
        "region": region_of(infra),
        "retry_delay_seconds": _number(retry_delay or 0),
        "runtime_type": runtime,
        "schedule_cron": schedule.cron if schedule else "",
        "schedule_timezone": schedule.timezone if schedule else "UTC",
        "service_account": infra.runtime.service_account or "",
        "storage_bucket": storage.bucket if storage else "",
        "storage_create_bucket": bool(storage and storage.create_bucket),
        "storage_kms_key_id": (storage.kms_key_id or "") if storage else "",
        "storage_prefix": storage.prefix if storage else "",
        "tags": dict(job.tag_sets[infra.provider].tags),
        "tenant_id": config.tenant_id,
    }
    if runtime == "ecs":
        out.update(
            assign_public_ip=not net.private_networking,
            cluster_name=infra.runtime.cluster_name or "",
            cpu_units=ecs_cpu_units(compute.cpu_millicores),
            create_cluster=infra.runtime.create_cluster,
            log_group_name=f"/dativo/{config.tenant_id}/{config.environment}/{job.name}",
            log_retention_days=LOG_RETENTION_DAYS,
            schedule_expression=aws_schedule_expression(schedule.cron) if schedule else "",
            security_group_ids=list(net.security_group_ids),
            stop_timeout_seconds=ECS_STOP_TIMEOUT_SECONDS,
            subnet_ids=list(net.subnet_ids),
            vpc_id=net.vpc_id or "",
        )
    elif runtime == "cloud_run":
        out.update(
            cpu_limit=format_cpu(compute.cpu_millicores),
            memory_limit=f"{compute.memory_mib}Mi",
            network=net.vpc_id or "",
            subnetwork=net.subnet_ids[0] if net.subnet_ids else "",
            vpc_egress="PRIVATE_RANGES_ONLY" if net.private_networking else "ALL_TRAFFIC",
        )
    elif runtime == "container_apps":
        account, _, container = (storage.bucket if storage else "/").partition("/")
        out.update(
            cpu_cores=_number(compute.cpu_millicores / 1000),
            environment_name=infra.runtime.cluster_name or "",
            memory_size=f"{compute.memory_mib / 1024:g}Gi",  # Azure's own spelling: 0.5Gi, 1.5Gi, 2Gi
            resource_group=infra.resource_group or "",
            storage_account=account,
            storage_container=container,
        )
    elif runtime == "kubernetes":
        req = infra.dagster.resource_requirements if infra.dagster and infra.dagster.resource_requirements else None
        cpu_of = lambda raw: format_cpu(parse_cpu(raw)) if raw is not None else format_cpu(compute.cpu_millicores)  # noqa: E731
        mem_of = lambda raw: format_memory(parse_memory(raw)) if raw is not None else format_memory(compute.memory_mib)  # noqa: E731
        out.update(
            cluster_name=infra.runtime.cluster_name or "",
            create_namespace=infra.runtime.create_namespace,
            labels=dict(job.tag_sets["kubernetes"].tags),
            limit_cpu=cpu_of(req.limit_cpu if req else None),
            limit_memory=mem_of(req.limit_memory if req else None),
            namespace=infra.runtime.namespace or "default",
            request_cpu=cpu_of(req.request_cpu if req else None),
            request_memory=mem_of(req.request_memory if req else None),
            resource_group=infra.resource_group or "",
        )
    return dict(sorted(out.items()))
