"""Tag coverage of an offline plan: which resources carry the required keys, which cannot carry tags.

Whether a resource takes tags is read from its provider SDK class, exactly as the stack
transformation decides (:func:`dativo_infra.tags.taggable.tag_input` on
:func:`dativo_infra.plan.sdk_class`). A resource that cannot (an IAM policy, a role assignment, a
GCP service account...) is listed with the resource its cost and ownership roll up to: its job's
main tagged resource (the ECS task definition, the Cloud Run job, the Container Apps job, the
Kubernetes CronJob), or the job's first tagged resource when it has none of those.

The required keys of a resource are those of the policy's ``error`` rules that apply to its job
(tenant and environment of the stack; provider and runtime of the job's component), formatted for
the resource's cloud. Without a policy they are the default keys every job gets:
``dativo:tenant``, ``dativo:environment``, ``dativo:job`` and ``dativo:managed-by``
(``dativo:job`` only for resources that belong to a job).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional

from ..tags.formats import FORMATS
from ..tags.taggable import tag_input
from .evaluate import cloud_key, required_keys
from .model import Policy

if TYPE_CHECKING:
    from ..plan import Plan, PlannedResource

DEFAULT_KEYS = ("dativo:tenant", "dativo:environment", "dativo:job", "dativo:managed-by")
STACK_DEFAULT_KEYS = ("dativo:tenant", "dativo:environment", "dativo:managed-by")  # resources outside any job

# component type → (provider, runtime); a Kubernetes job's provider is the cloud of its other resources
COMPONENT_SCOPES = {
    "dativo:aws:EcsJob": ("aws", "ecs"),
    "dativo:gcp:CloudRunJob": ("gcp", "cloud_run"),
    "dativo:azure:ContainerAppsJob": ("azure", "container_apps"),
    "dativo:kubernetes:Job": (None, "kubernetes"),
}
# the resource a job's cost and ownership roll up to, by preference
ANCHOR_TYPES = (
    "aws:ecs/taskDefinition:TaskDefinition",
    "gcp:cloudrunv2/job:Job",
    "azure-native:app:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:batch/v1:Job",
)
_CLOUD_OF_PACKAGE = {"aws": "aws", "gcp": "gcp", "azure-native": "azure"}


def taggable(type_token: str) -> Optional[tuple[str, str]]:
    """``(cloud, input name)`` when resources of that type take tags; None for other types (and non-SDK types)."""
    from ..plan import sdk_class  # the plan module loads the Pulumi runtime: only when coverage is asked for

    try:
        cls = sdk_class(type_token)
    except (ImportError, AttributeError, ValueError):
        return None
    return tag_input(cls) if cls is not None else None


def resource_tags(inputs: Mapping[str, Any], input_name: str) -> dict[str, Any]:
    """The tags (or labels) in a resource's recorded inputs; Kubernetes objects carry them in metadata.labels."""
    if input_name == "metadata":
        metadata = inputs.get("metadata")
        found = metadata.get("labels") if isinstance(metadata, Mapping) else None
    else:
        found = inputs.get(input_name)
    return dict(found) if isinstance(found, Mapping) else {}


def _carried(tags: Mapping[str, Any], keys: Iterable[str], cloud: str) -> tuple[list[str], list[str]]:
    fold = FORMATS[cloud].fold
    present = {fold(k) for k in tags}
    carries: list[str] = []
    missing: list[str] = []
    for key in keys:
        (carries if fold(key) in present else missing).append(key)
    return carries, missing


def _percent(done: int, total: int) -> Optional[float]:
    return round(100.0 * done / total, 1) if total else None


def _job_scopes(plan: Plan) -> dict[str, tuple[Optional[str], Optional[str]]]:
    scopes: dict[str, tuple[Optional[str], Optional[str]]] = {}
    for r in plan.resources:
        if r.job and not r.custom and r.type in COMPONENT_SCOPES:
            scopes[r.job] = COMPONENT_SCOPES[r.type]
    for r in plan.resources:  # a Kubernetes job's cloud: that of its identity resources
        if r.job in scopes and scopes[r.job][0] is None:
            cloud = _CLOUD_OF_PACKAGE.get(r.type.split(":", 1)[0])
            if cloud:
                scopes[r.job] = (cloud, scopes[r.job][1])
    return scopes


def _anchor(resources: list[PlannedResource]) -> Optional[PlannedResource]:
    for typ in ANCHOR_TYPES:
        for r in resources:
            if r.type == typ:
                return r
    tagged = [r for r in resources if taggable(r.type)]
    return min(tagged, key=lambda r: r.name) if tagged else None


def coverage(plan: Plan, policy: Optional[Policy] = None, *,
             scopes: Optional[Mapping[str, tuple[Optional[str], Optional[str]]]] = None) -> dict[str, Any]:
    """The coverage record of one planned stack (a :class:`dativo_infra.plan.Plan`).

    ``scopes`` (job name → ``(provider, runtime)``) overrides what is read from the plan's components:
    pass it from the loaded jobs so that ``dagster``/``airflow`` jobs (planned as ECS, Cloud Run or
    Container Apps components) match rules scoped to their own runtime.
    """
    job_scopes = {**_job_scopes(plan), **(scopes or {})}
    by_job: dict[Optional[str], list[PlannedResource]] = {}
    for r in plan.resources:
        if r.custom:
            by_job.setdefault(r.job, []).append(r)
    anchors = {job: _anchor(rs) for job, rs in by_job.items()}
    rows: list[dict[str, Any]] = []
    missing_rows: list[dict[str, Any]] = []
    untaggable_rows: list[dict[str, Any]] = []
    taggable_count = fully = 0
    for r in plan.resources:
        if not r.custom or r.type.startswith("pulumi:providers:"):
            continue
        found = taggable(r.type)
        if found is None:
            anchor = anchors.get(r.job)
            parent = anchor.name if anchor is not None else None
            row = {"resource": r.name, "type": r.type, "job": r.job, "taggable": False, "parent": parent,
                   "parent_type": anchor.type if anchor is not None else None}
            rows.append(row)
            untaggable_rows.append({"resource": r.name, "type": r.type, "job": r.job, "parent": parent})
            continue
        cloud, name = found
        provider, runtime = job_scopes.get(r.job, (None, None)) if r.job else (None, None)
        if policy is None:
            formatted = [cloud_key(k, cloud) for k in (DEFAULT_KEYS if r.job else STACK_DEFAULT_KEYS)]
            keys = [k for k in formatted if k is not None]
        else:
            keys = required_keys(policy, tenant=plan.tenant, environment=plan.environment, provider=provider,
                                 runtime=runtime, cloud=cloud)
        carries, lacking = _carried(resource_tags(r.inputs, name), keys, cloud)
        taggable_count += 1
        fully += not lacking
        rows.append({"resource": r.name, "type": r.type, "job": r.job, "taggable": True, "cloud": cloud,
                     "required": keys, "carries": carries, "missing": lacking})
        if lacking:
            missing_rows.append({"resource": r.name, "type": r.type, "job": r.job, "keys": lacking})
    return {
        "stack": f"{plan.tenant}-{plan.environment}",
        "tenant": plan.tenant,
        "environment": plan.environment,
        "policy": (policy.source or "(in code)") if policy is not None else None,
        "resources": rows,
        "coverage": {"taggable": taggable_count, "fully_tagged": fully, "percent": _percent(fully, taggable_count),
                     "missing": missing_rows, "untaggable": untaggable_rows},
    }


def fleet_coverage(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The fleet total of per-stack :func:`coverage` records; missing and untaggable entries name their stack."""
    records = list(records)
    taggable_count = sum(r["coverage"]["taggable"] for r in records)
    fully = sum(r["coverage"]["fully_tagged"] for r in records)
    return {
        "stacks": [r["stack"] for r in records],
        "coverage": {
            "taggable": taggable_count,
            "fully_tagged": fully,
            "percent": _percent(fully, taggable_count),
            "missing": [{"stack": r["stack"], **m} for r in records for m in r["coverage"]["missing"]],
            "untaggable": [{"stack": r["stack"], **u} for r in records for u in r["coverage"]["untaggable"]],
        },
    }


def render_coverage(record: Mapping[str, Any]) -> str:
    """Text for a coverage record (a stack's or the fleet's): the totals, then one line per gap."""
    c = record["coverage"]
    name = record.get("stack") or f"fleet of {len(record.get('stacks', []))} stacks"
    percent = "n/a" if c["percent"] is None else f"{c['percent']:g} %"
    lines = [f"{name}: {c['fully_tagged']}/{c['taggable']} taggable resources fully tagged ({percent}); "
             f"{len(c['untaggable'])} cannot carry tags"]
    for m in c["missing"]:
        where = f"{m['stack']}: " if "stack" in m else ""
        lines.append(f"  missing  {where}{m['resource']} ({m['type']}): {', '.join(m['keys'])}")
    for u in c["untaggable"]:
        where = f"{u['stack']}: " if "stack" in u else ""
        lines.append(f"  untagged {where}{u['resource']} ({u['type']}) → cost rolls up to {u['parent'] or '(no tagged resource)'}")
    return "\n".join(lines)
