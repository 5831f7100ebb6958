"""The job file and asset file models (pydantic v2).

Keys the Dativo ETL runner reads and dativo-infra does not are kept and
tolerated at the top level of a job file; inside ``infrastructure`` every key
is ours, so an unknown one is a typo and an error.
"""
from __future__ import annotations

import math
import re
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from . import sizes
from .cron import problems as cron_problems
from .strict_yaml import as_written

Provider = Literal["aws", "gcp", "azure"]
RuntimeType = Literal["ecs", "cloud_run", "container_apps", "kubernetes", "dagster", "airflow"]
Scalar = Union[str, int, float, bool]
Architecture = Literal["x86_64", "arm64"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?LW#]+$")


class Schedule(_Strict):
    """When the job runs: a 5-field cron expression and its time zone."""

    cron: str = Field(description="5-field cron expression, e.g. '0 2 * * *'; every value in its field's range; L, W and # (EventBridge extensions) on ECS only")
    timezone: str = Field("UTC", description="IANA time zone (Azure Container Apps evaluates cron in UTC only)")

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        parts = value.split()
        if len(parts) != 5:
            raise ValueError(f"cron {value!r} must have 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'")
        bad = [p for p in parts if not _CRON_FIELD.match(p)]
        if bad:
            raise ValueError(f"cron {value!r}: field {bad[0]!r} may only hold digits, names and * / , - ? L W #")
        wrong = list(cron_problems(" ".join(parts)))
        if wrong:
            raise ValueError(f"cron {value!r}: " + "; ".join(wrong))
        return " ".join(parts)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        problem = timezone_problem(value)
        if problem:
            raise ValueError(problem)
        return value


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*\Z")
# in the tz database's files, but not zones a scheduler knows: the host's own zone, POSIX rule files, leap-second variants
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
MAX_ZONE_NAME = 64


def timezone_problem(value: str) -> Optional[str]:
    """Why ``value`` is not a canonical IANA time zone name (as in ``zoneinfo.available_timezones()``), or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    allowed = "use an IANA name such as 'UTC' or 'Europe/Berlin'"
    if len(value) > MAX_ZONE_NAME or not _ZONE_NAME.match(value):
        return f"time zone {value[:MAX_ZONE_NAME]!r}{'…' if len(value) > MAX_ZONE_NAME else ''} is not an IANA name; {allowed}"
    if value in _NOT_ZONES or value.split("/", 1)[0] in ("posix", "right"):
        return f"time zone {value!r} is not a canonical IANA name (the schedulers do not know it); {allowed}"
    try:
        ZoneInfo(value)  # a folder such as 'America' is an OSError here, never an internal error
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {value!r}; {allowed}"
    return None


class RuntimeConfig(_Strict):
    type: RuntimeType = Field(description="Where the job runs; dagster/airflow run on the provider's default container runtime")
    cluster_name: Optional[str] = Field(None, description="ECS cluster, Container Apps managed environment, or Kubernetes cluster (referenced, not created unless create_cluster)")
    create_cluster: bool = Field(False, description="Create the ECS cluster instead of referencing it (ECS only)")
    namespace: Optional[str] = Field(None, description="Kubernetes namespace (a logical grouping on other runtimes)")
    create_namespace: bool = Field(False, description="Create the Kubernetes namespace (e.g. one per tenant)")
    service_account: Optional[str] = Field(None, description="Existing identity to run as (IAM role ARN, GCP service account e-mail, "
                                                             "Azure identity resource ID, Kubernetes ServiceAccount); created when absent")
    image: Optional[str] = Field(None, description="Runner image; defaults to the stack's dativo-infra:image")
    schedule: Optional[Schedule] = Field(None, description="Run on a schedule; a plain string is taken as the cron with timezone UTC")

    # the JSON Schema states what is accepted as written (here: the cron shorthand), not only the result
    @field_validator("schedule", mode="before", json_schema_input_type=Optional[Union[str, Schedule]])
    @classmethod
    def _cron_shorthand(cls, value: Any) -> Any:
        return {"cron": value} if isinstance(value, str) else value


class ComputeConfig(_Strict):
    cpu: Union[str, int, float] = Field("1", description="Cores ('2', '0.5'), millicores ('500m') or ECS CPU units ('2048')")
    memory: Union[str, int] = Field("2048", description="MiB ('4096') or a quantity ('4Gi', '4GB')")
    instance_type: Optional[str] = Field(None, description="Informational (Fargate and serverless runtimes have no instance type)")
    max_runtime_seconds: int = Field(3600, gt=0, description="Hard limit on one run (task timeout / activeDeadlineSeconds / replicaTimeout)")
    architecture: Architecture = Field("x86_64", description="CPU architecture the image is built for: x86_64, or arm64 (ecs only: Fargate on Graviton)")
    ephemeral_storage_gib: Optional[int] = Field(
        None, ge=21, le=200, description="ecs only: the task's ephemeral storage in GiB (21–200); unset, Fargate's included 20 GiB")

    @field_validator("max_runtime_seconds", "ephemeral_storage_gib", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any, info) -> Any:
        return _no_bool(value, "a whole number of seconds" if info.field_name == "max_runtime_seconds" else "a whole number of GiB")

    _cpu_millicores: int = PrivateAttr()
    _memory_mib: int = PrivateAttr()

    # one validator per field, so a bad cpu and a bad memory are two problems on their own lines
    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _no_bool(cls, value: Any, info) -> Any:
        # pydantic would read `true` as the number 1; a size is never a boolean
        if isinstance(value, bool):
            (sizes.parse_cpu if info.field_name == "cpu" else sizes.parse_memory)(value)
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu_size(cls, value: Union[str, int, float]) -> Union[str, int, float]:
        sizes.parse_cpu(value)  # SizeError is a ValueError: reported on the cpu field
        return value

    @field_validator("memory")
    @classmethod
    def _memory_size(cls, value: Union[str, int]) -> Union[str, int]:
        sizes.parse_memory(value)
        return value

    @model_validator(mode="after")
    def _canonical(self) -> ComputeConfig:
        self._cpu_millicores = sizes.parse_cpu(self.cpu)
        self._memory_mib = sizes.parse_memory(self.memory)
        return self

    @property
    def cpu_millicores(self) -> int:
        return self._cpu_millicores

    @property
    def memory_mib(self) -> int:
        return self._memory_mib


class NetworkingConfig(_Strict):
    vpc_id: Optional[str] = Field(None, description="AWS VPC ID or GCP network self-link")
    subnet_ids: list[str] = Field(default_factory=list, description="Subnets the job's tasks run in (AWS subnet IDs, GCP subnetwork self-links)")
    security_group_ids: list[str] = Field(default_factory=list, description="Extra AWS security groups, added to the job's own (which has no ingress)")
    private_networking: bool = Field(True, description="No public IP (AWS); Cloud Run routes only private ranges through the VPC")


class StorageConfig(_Strict):
    bucket: str = Field(description="S3 or GCS bucket name; on Azure 'account/container'")
    prefix: str = Field("", description="Object prefix the job may read and write; access is limited to it")
    kms_key_id: Optional[str] = Field(None, description="KMS key ARN / Cloud KMS key name / Key Vault key ID the job may use")
    create_bucket: bool = Field(False, description="This stack owns and creates the bucket (protected: never deleted by destroy)")

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        if ".." in value.split("/") or "*" in value or "?" in value:
            raise ValueError(f"prefix {value!r} may not contain '..', '*' or '?': it bounds the job's access")
        return value.strip("/")


_TF_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\Z")
# names Terraform does not allow for a module's input variables (Terraform 1.11 rejects each of them)
TERRAFORM_RESERVED = frozenset({"count", "depends_on", "for_each", "lifecycle", "locals", "provider", "providers", "source", "version"})


def _terraform_value_problem(value: Any, where: str) -> Optional[str]:
    """Why ``value`` cannot be written to a .tfvars file, or None (strings, numbers, booleans, null, lists, maps)."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where}: {value!r} is not a Terraform number"
    if isinstance(value, list):
        return next((p for i, v in enumerate(value) if (p := _terraform_value_problem(v, f"{where}[{i}]"))), None)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where}: map key {k!r} must be a string (quote it)"
            problem = _terraform_value_problem(v, f"{where}.{k}")
            if problem:
                return problem
        return None
    return f"{where}: a {type(value).__name__} is not a Terraform value; quote it to pass a string"


def _check_terraform_names(value: dict[str, Any], what: str) -> dict[str, Any]:
    for name, item in value.items():
        if not _TF_IDENTIFIER.match(name):
            raise ValueError(f"{what} name {name!r} is not a Terraform identifier (letters, digits, '_' and '-', not starting with a digit)")
        problem = _terraform_value_problem(item, name)
        if problem:
            raise ValueError(problem)
    return value


class TerraformConfig(_Strict):
    module_source: Optional[str] = Field(None, description="The module the variables are for: in the tfvars header and the --json report")
    module_version: Optional[str] = Field(None, description="Its version: in the tfvars header and the --json report")
    workspace: Optional[str] = Field(None, description="Terraform workspace: in the tfvars header and the --json report")
    backend_config: dict[str, Scalar] = Field(default_factory=dict, description="Written to a file for terraform init -backend-config")
    variables: dict[str, Any] = Field(default_factory=dict, description="Extra variables for the module, merged into the export")

    @field_validator("backend_config")
    @classmethod
    def _backend_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_terraform_names(value, "backend setting")

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(set(value) & TERRAFORM_RESERVED)
        if reserved:
            raise ValueError(f"{reserved[0]!r} is reserved by Terraform and cannot be a module variable name")
        return _check_terraform_names(value, "variable")


class ResourceRequirements(_Strict):
    request_cpu: Optional[Union[str, int, float]] = Field(None, description="Kubernetes CPU request (default compute.cpu); any CPU spelling")
    request_memory: Optional[Union[str, int]] = Field(None, description="Kubernetes memory request (default compute.memory); any memory spelling")
    limit_cpu: Optional[Union[str, int, float]] = Field(None, description="Kubernetes CPU limit (default compute.cpu)")
    limit_memory: Optional[Union[str, int]] = Field(None, description="Kubernetes memory limit (default compute.memory)")

    # per field (not one model check), so every bad size is its own problem, on its own line
    @field_validator("request_cpu", "limit_cpu", "request_memory", "limit_memory", mode="before")
    @classmethod
    def _no_bool(cls, value: Any, info) -> Any:
        if isinstance(value, bool):  # pydantic would read `true` as 1
            (sizes.parse_cpu if info.field_name.endswith("cpu") else sizes.parse_memory)(value)
        return value

    @field_validator("request_cpu", "limit_cpu", "request_memory", "limit_memory")
    @classmethod
    def _size(cls, value: Any, info) -> Any:
        if value is not None:
            (sizes.parse_cpu if info.field_name.endswith("cpu") else sizes.parse_memory)(value)
        return value


class DagsterConfig(_Strict):
    code_location: Optional[str] = Field(None, description="Dagster code location (kept for Dagster)")
    repository: Optional[str] = Field(None, description="Dagster repository (kept for Dagster)")
    op_config: dict[str, Any] = Field(default_factory=dict, description="max_retries and retry_delay_seconds (whole numbers ≥ 0) are used for retries")
    resource_requirements: Optional[ResourceRequirements] = Field(None, description="Kubernetes requests and limits of the job's container")

    @field_validator("op_config")
    @classmethod
    def _retry_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in ("max_retries", "retry_delay_seconds"):
            if key in value and (isinstance(value[key], bool) or not isinstance(value[key], int) or value[key] < 0):
                raise ValueError(f"op_config.{key} must be a whole number ≥ 0, got {value[key]!r}")
        return value


def _no_bool(value: Any, wanted: str) -> Any:
    """pydantic reads `true` as 1 wherever it wants a number; a boolean is never a count or a duration."""
    if isinstance(value, bool):
        raise ValueError(f"expected {wanted}, got the boolean {str(value).lower()}")
    return value


def _stringify(value: Any) -> Any:
    """A tag value as text: a number as it was written (``1.10`` stays ``1.10``), a boolean as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return getattr(value, "text", None) or str(value)
    return value


def _one_or_many_texts(value: Any) -> Any:
    """A single value is a list of one; numbers in it are kept as written (``cost_center: 0042`` → ``"0042"``)."""
    value = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    return [as_written(v) for v in value] if isinstance(value, list) else value


class InfrastructureConfig(_Strict):
    provider: Provider = Field(description="The cloud: aws, gcp or azure (for Kubernetes, the cloud behind the cluster: identity and storage)")
    region: Optional[str] = Field(None, description="Cloud region/location (GCP Cloud Run and Azure need one; AWS uses the provider's aws:region when absent)")
    resource_group: Optional[str] = Field(None, description="Azure resource group of the job's resources and of its managed environment")
    runtime: RuntimeConfig = Field(description="Where and when the job runs")
    compute: ComputeConfig = Field(default_factory=ComputeConfig, description="CPU, memory and the time limit of one run")
    networking: NetworkingConfig = Field(default_factory=NetworkingConfig, description="Where the job's tasks run in the network")
    storage: Optional[StorageConfig] = Field(None, description="The bucket (and prefix) the job reads and writes; access is limited to it")
    tags: dict[str, str] = Field(default_factory=dict, description="Verbatim tags; highest precedence (numbers and booleans are written as text)")
    terraform: Optional[TerraformConfig] = Field(None, description="For the Terraform export: module, workspace, backend settings, extra variables")
    dagster: Optional[DagsterConfig] = Field(None, description="Dagster settings; retries and Kubernetes requests/limits are read from here")

    @field_validator("tags", mode="before", json_schema_input_type=dict[str, Union[str, int, float, bool]])
    @classmethod
    def _scalar_values(cls, value: Any) -> Any:
        # YAML turns `SharedInfrastructure: true` into a bool; a tag value is text
        if isinstance(value, dict):
            return {k: _stringify(v) for k, v in value.items()}
        return value


class FinOps(_Open):
    cost_center: Optional[str] = Field(None, description="Tag dativo:cost-center")
    business_tags: list[str] = Field(default_factory=list, description="Tag dativo:business-tags, joined with '_' (a single string is one item)")
    project: Optional[str] = Field(None, description="Tag dativo:project")
    environment: Optional[str] = Field(None, description="In the job's finops only: tag dativo:environment (an asset's is not used)")
    # cost-estimate inputs (docs/cost.md): the job's value wins over its asset's, key by key
    expected_runtime_seconds: Optional[float] = Field(
        None, gt=0, allow_inf_nan=False, description="Typical duration of one run; unset, `dativo-infra cost` uses compute.max_runtime_seconds as an upper bound")
    monthly_budget: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="Budget for the job's estimated monthly cost, in the price tables' currency")
    expected_storage_gb_per_run: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="Data each run adds to storage, in GB (cost estimate only)")
    expected_log_gb_per_run: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="Logs each run writes, in GB (cost estimate only)")

    @field_validator("expected_runtime_seconds", "monthly_budget", "expected_storage_gb_per_run", "expected_log_gb_per_run", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        return _no_bool(value, "a number")

    @field_validator("cost_center", "project", "environment", mode="before")
    @classmethod
    def _text_as_written(cls, value: Any) -> Any:
        return as_written(value)  # a tag value: `cost_center: 0042` is "0042", not 42

    @field_validator("business_tags", mode="before", json_schema_input_type=Union[str, list[str]])
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _one_or_many_texts(value)


class RetryConfig(_Open):
    max_attempts: Optional[int] = Field(None, ge=1, description="Attempts in all: max_retries is max_attempts − 1 unless dagster.op_config.max_retries is set")
    # finite and ≥ 0: .nan or .inf would reach Terraform and the runtimes as a number they cannot hold
    initial_delay_seconds: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="retry_delay_seconds unless dagster.op_config.retry_delay_seconds is set")
    max_delay_seconds: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="ETL runner setting; kept, not used here")
    backoff_multiplier: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="ETL runner setting; kept, not used here")

    @field_validator("max_attempts", mode="before")
    @classmethod
    def _whole_attempts(cls, value: Any) -> Any:
        return _no_bool(value, "a whole number of attempts")

    @field_validator("initial_delay_seconds", "max_delay_seconds", "backoff_multiplier", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return _no_bool(value, "a number ≥ 0")


class JobConfig(_Open):
    """One Dativo job file. Unknown top-level keys belong to the ETL runner and are kept."""

    tenant_id: str = Field(description="The tenant: 1–32 lowercase letters, digits and hyphens, starting with a letter; '${TENANT_ID}' makes a shared file")
    environment: str = Field(description="The environment (prod, staging, …): same rules as tenant_id")
    source_connector: Optional[str] = Field(None, description="ETL runner: source connector name")
    source_connector_path: Optional[str] = Field(None, description="ETL runner: source connector file")
    target_connector: Optional[str] = Field(None, description="ETL runner: target connector name")
    target_connector_path: Optional[str] = Field(None, description="ETL runner: target connector file")
    asset: Optional[str] = Field(None, description="ETL runner: asset name")
    asset_path: Optional[str] = Field(None, description="Asset definition file; its compliance and finops become tags")
    source: dict[str, Any] = Field(default_factory=dict, description="ETL runner: source settings, kept as written")
    target: dict[str, Any] = Field(default_factory=dict, description="ETL runner: target settings, kept as written (${VAR} left to the runner)")
    finops: Optional[FinOps] = Field(None, description="The job's cost allocation; wins over the asset's")
    classification_overrides: dict[str, Any] = Field(default_factory=dict, description="ETL runner: kept, not used here")
    governance_overrides: dict[str, Any] = Field(default_factory=dict, description="ETL runner: kept, not used here")
    retry_config: Optional[RetryConfig] = Field(None, description="Retries of the runner; the fallback for max_retries and retry_delay_seconds")
    logging: dict[str, Any] = Field(default_factory=dict, description="ETL runner: kept, not used here")
    infrastructure: Optional[InfrastructureConfig] = Field(None, description="What to provision; without it the job is valid and has nothing to provision")


class Compliance(_Open):
    classification: list[str] = Field(default_factory=list, description="Tag dativo:classification, joined with '_' (a single string is one item)")
    retention_days: Optional[int] = Field(None, ge=0, description="Tag dativo:retention-days")

    @field_validator("retention_days", mode="before")
    @classmethod
    def _whole_days(cls, value: Any) -> Any:
        return _no_bool(value, "a whole number of days")
    regulations: list[str] = Field(default_factory=list, description="Tag dativo:regulations, joined with '_' (a single string is one item)")

    @field_validator("classification", "regulations", mode="before", json_schema_input_type=Union[str, list[str]])
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _one_or_many_texts(value)


class AssetDefinition(_Open):
    name: str = Field(description="The asset's name")
    schema_: list[dict[str, Any]] = Field(default_factory=list, alias="schema", description="ETL runner: the columns, kept")
    governance: dict[str, Any] = Field(default_factory=dict, description="ETL runner: owner, tags…, kept (not cloud tags)")
    compliance: Optional[Compliance] = Field(None, description="Classification, retention and regulations: tags below the asset's finops")
    finops: Optional[FinOps] = Field(None, description="The asset's cost allocation: tags below the job's finops (its environment is not used)")


class AssetFile(_Open):
    asset: AssetDefinition = Field(description="The asset definition")
