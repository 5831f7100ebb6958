"""Consistency rules across fields, checked after the models validate.

Each rule returns ``(field path, message)`` pairs so the loader can attach
file positions; none of them raise.
"""
from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from collections.abc import Iterator

from pydantic import BaseModel

from ..stack import IMAGE
from . import cron, sizes
from .models import InfrastructureConfig, JobConfig

SAFE_ID = re.compile(r"^(?:[a-z][a-z0-9-]{0,30}[a-z0-9]|[a-z])\Z")

RUNTIME_PROVIDERS = {
    "ecs": {"aws"},
    "cloud_run": {"gcp"},
    "container_apps": {"azure"},
    "kubernetes": {"aws", "gcp", "azure"},
    "dagster": {"aws", "gcp", "azure"},
    "airflow": {"aws", "gcp", "azure"},
}

# dagster and airflow launch runs on the provider's default container runtime
DEFAULT_RUNTIME = {"aws": "ecs", "gcp": "cloud_run", "azure": "container_apps"}

# runtimes whose tasks are placed in subnets the job must name
NEEDS_SUBNETS = {"ecs"}


def effective_runtime(infra: InfrastructureConfig) -> str:
    kind = infra.runtime.type
    return DEFAULT_RUNTIME[infra.provider] if kind in ("dagster", "airflow") else kind


_GCP_LOCATION = re.compile(r"/(?:regions|locations)/([a-z0-9-]+)/")


def region_of(infra: InfrastructureConfig) -> str:
    """The job's region: as written, else (GCP) read from a subnetwork or KMS key path; "" when unknown."""
    if infra.region:
        return infra.region
    if infra.provider == "gcp":
        paths = list(infra.networking.subnet_ids) + ([infra.storage.kms_key_id] if infra.storage and infra.storage.kms_key_id else [])
        for path in paths:
            match = _GCP_LOCATION.search(path)
            if match and match.group(1) != "global":
                return match.group(1)
    return ""


def check_identifier(value: str, what: str) -> Iterator[str]:
    if not SAFE_ID.match(value):
        yield (f"{what} {value!r} must be 1–32 lowercase letters, digits and hyphens, starting with a letter and not "
               "ending with a hyphen (it is part of stack names, resource names and paths)")


_AZ_IDENTITY = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$", re.IGNORECASE)
_S3 = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_GCS = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]\Z")
_AZ_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}\Z")
_AZ_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]\Z")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def check_bucket(provider: str, bucket: str) -> Iterator[str]:
    if provider == "aws":
        if not _S3.match(bucket) or ".." in bucket or _is_ip(bucket) or bucket.startswith(("xn--", "sthree-")) or bucket.endswith(("-s3alias", "--ol-s3")):
            yield (f"S3 bucket name {bucket!r} is invalid: 3–63 lowercase letters, digits, dots and hyphens, starting and ending "
                   "with a letter or digit, no '..', not an IP address, no 'xn--' prefix or '-s3alias' suffix")
    elif provider == "gcp":
        parts_ok = all(0 < len(p) <= 63 for p in bucket.split("."))
        if not _GCS.match(bucket) or not parts_ok or (len(bucket) > 63 and "." not in bucket) or bucket.startswith("goog") or "google" in bucket or _is_ip(bucket):
            yield (f"GCS bucket name {bucket!r} is invalid: 3–63 lowercase letters, digits, '-', '_' and '.' (up to 222 with dots, "
                   "63 per dot-separated part), starting and ending with a letter or digit, no 'goog' prefix or 'google'")
    elif provider == "azure":
        account, _, container = bucket.partition("/")
        if not container:
            yield f"on Azure storage.bucket is 'account/container', got {bucket!r}"
            return
        if not _AZ_ACCOUNT.match(account):
            yield f"Azure storage account {account!r} must be 3–24 lowercase letters and digits"
        if not _AZ_CONTAINER.match(container):
            yield (f"Azure container {container!r} must be 3–63 lowercase letters, digits and hyphens, starting and ending with "
                   "a letter or digit, without consecutive hyphens")


@functools.cache
def _known_keys(model: type[BaseModel]) -> tuple[list[str], dict[str, str]]:
    known = list(model.model_fields)
    return known, {re.sub(r"[-_]", "", name.lower()): name for name in known}


def near_misses(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Unknown keys of an open model (kept for the ETL runner) that look like a misspelt known one.

    ``infrastucture:`` would otherwise be kept as a runner setting and the job
    would quietly provision nothing; ``costcenter:`` would quietly lose its tag.
    """
    if not model.model_extra:  # the common case: nothing to compare, and no per-model work
        return
    known, squashed = _known_keys(type(model))
    for key in model.model_extra:
        match = squashed.get(re.sub(r"[-_]", "", str(key).lower())) or next(iter(difflib.get_close_matches(str(key), known, n=1, cutoff=0.85)), None)
        if match:
            yield f"{prefix}{key}", f"unknown key {key!r}: did you mean {match!r}? (unknown keys are kept for the ETL runner and ignored here)"


def check_job(job: JobConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = list(near_misses(job))
    if job.finops is not None:
        problems += near_misses(job.finops, "finops.")
    problems += [("tenant_id", m) for m in check_identifier(job.tenant_id, "tenant_id")]
    problems += [("environment", m) for m in check_identifier(job.environment, "environment")]
    infra = job.infrastructure
    if infra is None:
        return problems
    kind = infra.runtime.type
    if infra.provider not in RUNTIME_PROVIDERS[kind]:
        allowed = ", ".join(sorted(k for k, v in RUNTIME_PROVIDERS.items() if infra.provider in v))
        problems.append(("infrastructure.runtime.type", f"runtime {kind!r} does not run on provider {infra.provider!r}; allowed on {infra.provider}: {allowed}"))
        return problems
    runtime = effective_runtime(infra)
    compute = infra.compute
    for field, message in sizes.check_for_runtime(runtime, compute.cpu_millicores, compute.memory_mib):
        problems.append((f"infrastructure.compute.{field}", message))
    if runtime != "ecs" and compute.architecture != "x86_64":
        problems.append(("infrastructure.compute.architecture", f"{compute.architecture} runs on ecs (Fargate) only; {runtime} jobs run x86_64 images"))
    if runtime != "ecs" and compute.ephemeral_storage_gib is not None:
        problems.append(("infrastructure.compute.ephemeral_storage_gib", f"Fargate's task storage applies to ecs only, not to {runtime}"))
    if runtime == "cloud_run" and compute.max_runtime_seconds > sizes.CLOUD_RUN_MAX_TIMEOUT_SECONDS:
        problems.append(("infrastructure.compute.max_runtime_seconds",
                         f"{compute.max_runtime_seconds} s exceeds Cloud Run's task timeout limit of {sizes.CLOUD_RUN_MAX_TIMEOUT_SECONDS} s (168 h)"))
    if runtime in NEEDS_SUBNETS and not infra.networking.subnet_ids:
        problems.append(("infrastructure.networking.subnet_ids", f"runtime {runtime!r} places tasks in subnets: list at least one subnet ID"))
    if runtime == "ecs" and infra.networking.subnet_ids and not infra.networking.vpc_id:
        problems.append(("infrastructure.networking.vpc_id", "the job's security group is created in a VPC: set vpc_id"))
    if runtime != "ecs" and infra.runtime.create_cluster:
        problems.append(("infrastructure.runtime.create_cluster", "only ECS clusters can be created by dativo-infra; reference an existing cluster"))
    if runtime == "kubernetes" and infra.provider in ("aws", "azure") and not infra.runtime.cluster_name:
        problems.append(("infrastructure.runtime.cluster_name",
                         f"the job's {infra.provider} identity trusts the cluster's OIDC issuer: name the {'EKS' if infra.provider == 'aws' else 'AKS'} cluster in cluster_name"))
    if infra.provider == "azure" and infra.storage is not None and "'" in infra.storage.prefix:
        problems.append(("infrastructure.storage.prefix", "an Azure access condition quotes the prefix in single quotes: the prefix may not contain one"))
    if runtime == "container_apps" and infra.runtime.service_account and not _AZ_IDENTITY.match(infra.runtime.service_account):
        problems.append(("infrastructure.runtime.service_account",
                         "on Azure service_account is a user-assigned identity's resource ID: /subscriptions/SUB/resourceGroups/RG"
                         f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME, got {infra.runtime.service_account!r}"))
    if runtime == "container_apps" and not infra.runtime.cluster_name:
        problems.append(("infrastructure.runtime.cluster_name", "Container Apps jobs run in an existing managed environment: name it in cluster_name"))
    if runtime == "ecs" and not infra.runtime.cluster_name:
        problems.append(("infrastructure.runtime.cluster_name", "ECS tasks run in a cluster: name it in cluster_name (set create_cluster: true to create it)"))
    if infra.runtime.schedule and runtime == "container_apps" and infra.runtime.schedule.timezone != "UTC":
        problems.append(("infrastructure.runtime.schedule.timezone", "Container Apps evaluates schedules in UTC only; write the cron in UTC and set timezone: UTC"))
    if infra.runtime.schedule and runtime != "ecs" and (special := cron.extensions(infra.runtime.schedule.cron)):
        problems.append(("infrastructure.runtime.schedule.cron", f"{', '.join(repr(s) for s in special)}: L, W and # are EventBridge (ECS) cron "
                                                                 f"extensions; {runtime} schedules take standard 5-field cron"))
    if infra.runtime.schedule and runtime == "ecs":
        fields = infra.runtime.schedule.cron.split()
        if fields[2] not in ("*", "?") and fields[4] not in ("*", "?"):
            problems.append(("infrastructure.runtime.schedule.cron", "EventBridge Scheduler cannot combine a day of month with a day of week; set one of them to '*'"))
    if infra.storage is not None:
        problems += [("infrastructure.storage.bucket", m) for m in check_bucket(infra.provider, infra.storage.bucket)]
    if infra.runtime.image is not None and not IMAGE.match(infra.runtime.image):
        problems.append(("infrastructure.runtime.image", f"{infra.runtime.image!r} is not an image reference "
                                                         "(registry/repository[:tag][@digest], no spaces)"))
    problems += kubernetes_requests(infra) if runtime == "kubernetes" else []
    problems += unresolved_references(infra)
    retries = max_retries(job)
    if runtime == "cloud_run" and retries > sizes.CLOUD_RUN_MAX_RETRIES:
        from_dagster = bool(infra.dagster and "max_retries" in infra.dagster.op_config)
        where = "infrastructure.dagster.op_config.max_retries" if from_dagster else "retry_config.max_attempts"
        detail = "" if from_dagster else f" (retry_config.max_attempts {retries + 1} = 1 attempt + {retries} retries)"
        problems.append((where, f"Cloud Run allows 0–{sizes.CLOUD_RUN_MAX_RETRIES} retries per task, got {retries}{detail}"))
    return problems


def kubernetes_requests(infra: InfrastructureConfig) -> list[tuple[str, str]]:
    """Requests above limits: Kubernetes rejects such a pod, so the job would never start."""
    req = infra.dagster.resource_requirements if infra.dagster else None
    compute = infra.compute
    problems = []
    for kind, parse, default, unit in (("cpu", sizes.parse_cpu, compute.cpu_millicores, "m"), ("memory", sizes.parse_memory, compute.memory_mib, "Mi")):
        raw_request = getattr(req, f"request_{kind}") if req else None
        raw_limit = getattr(req, f"limit_{kind}") if req else None
        request = parse(raw_request) if raw_request is not None else default
        limit = parse(raw_limit) if raw_limit is not None else default
        if request > limit:
            where = f"infrastructure.dagster.resource_requirements.request_{kind}" if raw_request is not None else f"infrastructure.compute.{kind}"
            source = "limit_" + kind if raw_limit is not None else f"compute.{kind}"
            problems.append((where, f"{kind} request {request}{unit} is above the limit {limit}{unit} ({source}); Kubernetes rejects a pod "
                                    "whose request exceeds its limit"))
    return problems


# fields that land in IAM policies, role conditions and resource names: a ${...} left in one would be read by the
# cloud as a policy variable (${aws:PrincipalTag/...}) and widen the grant
_REFERENCE_FREE = ("storage", "runtime", "networking", "region", "resource_group", "compute")


def unresolved_references(infra: InfrastructureConfig) -> list[tuple[str, str]]:
    problems = []

    def walk(value, path: str) -> None:
        if isinstance(value, str):
            if "${" in value:
                problems.append((path, f"{value!r}: '${{' is not allowed here (it would reach a policy or a name as a cloud "
                                       "policy variable); use a ${VAR} that dativo-infra resolves, or write the value"))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}")

    dumped = infra.model_dump(include=set(_REFERENCE_FREE))
    for key in _REFERENCE_FREE:
        walk(dumped.get(key), f"infrastructure.{key}")
    for key, value in infra.tags.items():
        if "${" in key or "${" in value:
            problems.append((f"infrastructure.tags.{key}", "'${' is not allowed in a tag: tags decide access (dativo:tenant) and cost"))
    return problems


def max_retries(job: JobConfig) -> int:
    """Retries after the first attempt: dagster.op_config.max_retries, else retry_config.max_attempts − 1."""
    infra = job.infrastructure
    if infra and infra.dagster and "max_retries" in infra.dagster.op_config:
        return int(infra.dagster.op_config["max_retries"])
    if job.retry_config and job.retry_config.max_attempts:
        return job.retry_config.max_attempts - 1
    return 0
