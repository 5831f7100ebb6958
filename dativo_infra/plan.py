"""``dativo-infra plan``: run the real program under the Pulumi SDK's mock runtime.

No Pulumi CLI, no credentials, no network: ``pulumi.runtime.set_mocks``
replaces the engine, so the program registers its resources with a monitor
that records them. The result is a plan of *inputs* — what the program asks
for, with the provider SDKs' real classes and argument names — not a diff
against what exists in the cloud. IDs and ARNs that only a cloud could assign
are placeholders (``MOCK_ACCOUNT``, ``MOCK_REGION``, ``mock-project``, the all-zero
Azure subscription, ``MOCKOIDCISSUER``...).
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.output import contains_unknowns
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .program import REPORT, StackError, pulumi_program, stack_config
from .resolve import ResolvedJob
from .stack import StackContext

MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"
MOCK_PROJECT = "mock-project"
MOCK_PROJECT_NUMBER = "000000000000"
MOCK_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
MOCK_TENANT = "00000000-0000-0000-0000-00000000ffff"
MOCK_AZURE_LOCATION = "mock-location"
MOCK_EKS_ISSUER = f"https://oidc.eks.{MOCK_REGION}.amazonaws.com/id/MOCKOIDCISSUER"
MOCK_AKS_ISSUER = f"https://{MOCK_AZURE_LOCATION}.oic.prod-aks.azure.com/{MOCK_TENANT}/mock-cluster-issuer/"


@dataclass
class PlannedResource:
    job: Optional[str]
    type: str
    name: str
    urn: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    inputs: dict

    def as_dict(self) -> dict:
        return {"job": self.job, "type": self.type, "name": self.name, "custom": self.custom,
                "protect": self.protect, "retain_on_delete": self.retain_on_delete, "inputs": _sorted(self.inputs)}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _whole_numbers(value: Any) -> Any:
    """The wire carries every number as a double: give whole ones back as ints (443, not 443.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


@dataclass
class Plan:
    tenant: str
    environment: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0
    warnings: list = field(default_factory=list)  # the tag policy's warn findings (dicts with the rendered "line")
    scopes: dict = field(default_factory=dict)  # job → (provider, runtime type as written), for the policy's scopes

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "environment": self.environment,
                "resources": [r.as_dict() for r in self.resources], "outputs": self.outputs,
                **({"warnings": [{k: v for k, v in w.items() if k != "line"} for w in self.warnings]} if self.warnings else {})}

    def for_job(self, job: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.job == job]


def _placeholder_state(typ: str, name: str, inputs: dict) -> dict:
    """Attributes a cloud would assign, filled with recognisable placeholders."""
    digest = hashlib.sha256(f"{typ}:{name}".encode()).hexdigest()[:12]
    state = dict(inputs)
    if typ.startswith("aws:"):
        service = typ.split(":")[1].split("/")[0]
        physical = inputs.get("name") or inputs.get("family") or inputs.get("bucket") or name
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            state["arn"] = f"arn:aws:ecs:{MOCK_REGION}:{MOCK_ACCOUNT}:task-definition/{physical}:1"
        elif service == "iam":
            state["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:role/{physical}"
        elif service == "s3" and typ == "aws:s3/bucket:Bucket":
            return {**state, "bucket": physical, "arn": f"arn:aws:s3:::{physical}", "id": physical}
        else:
            state["arn"] = f"arn:aws:{service}:{MOCK_REGION}:{MOCK_ACCOUNT}:{typ.split(':')[-1].lower()}/{physical}"
        state.setdefault("name", physical)
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            return {**state, "id": f"sg-{digest}"}
    elif typ.startswith("gcp:"):
        return _gcp_state(typ, name, state)
    elif typ.startswith("azure-native:"):
        return _azure_state(typ, name, state, digest)
    return state


def _mock_uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dativo-plan-mock:{text}"))


def _gcp_state(typ: str, name: str, state: dict) -> dict:
    if typ == "gcp:serviceaccount/account:Account":
        email = f"{state['accountId']}@{MOCK_PROJECT}.iam.gserviceaccount.com"
        return {**state, "email": email, "member": f"serviceAccount:{email}", "uniqueId": "MOCK-UNIQUE-ID",
                "name": f"projects/{MOCK_PROJECT}/serviceAccounts/{email}", "id": f"projects/{MOCK_PROJECT}/serviceAccounts/{email}"}
    if typ == "gcp:cloudrunv2/job:Job":
        job_id = f"projects/{MOCK_PROJECT}/locations/{state.get('location')}/jobs/{state.get('name')}"
        return {**state, "id": job_id, "uid": _mock_uuid(job_id)}
    if typ == "gcp:cloudscheduler/job:Job":
        return {**state, "id": f"projects/{MOCK_PROJECT}/locations/{state.get('region')}/jobs/{state.get('name')}"}
    if typ == "gcp:storage/bucket:Bucket":
        return {**state, "id": state.get("name", name), "url": f"gs://{state.get('name', name)}"}
    return state


# azure-native resources name themselves through a type-specific input (jobName, resourceName, ...)
_AZURE_NAME_INPUTS = ("jobName", "resourceName", "containerName", "roleAssignmentName", "federatedIdentityCredentialResourceName")
_AZURE_PROVIDERS = {
    "azure-native:managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azure-native:app:Job": "Microsoft.App/jobs",
}


def _azure_state(typ: str, name: str, state: dict, digest: str) -> dict:
    physical = next((state[k] for k in _AZURE_NAME_INPUTS if isinstance(state.get(k), str)), name)
    group = state.get("resourceGroupName", "mock-resource-group")
    provider = _AZURE_PROVIDERS.get(typ, f"Mock.{typ.split(':')[1]}/{typ.split(':')[2]}")
    state = {**state, "name": physical}
    if typ == "azure-native:authorization:RoleAssignment":
        return {**state, "id": f"{state.get('scope', '')}/providers/Microsoft.Authorization/roleAssignments/{physical}"}
    identity = state.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # given as a list of IDs, returned by Azure as a map of ID → the identity's principal and client IDs
        state["identity"] = {**identity, "userAssignedIdentities": {
            i: {"principalId": _mock_uuid(f"principal:{i}"), "clientId": _mock_uuid(f"client:{i}")}
            for i in identity["userAssignedIdentities"] if isinstance(i, str)}}
    if typ == "azure-native:managedidentity:UserAssignedIdentity":
        state.update(principalId=_mock_uuid(f"principal:{digest}"), clientId=_mock_uuid(f"client:{digest}"), tenantId=MOCK_TENANT)
    return {**state, "id": f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{group}/providers/{provider}/{physical}"}


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.inputs: dict[tuple[str, str], dict] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.inputs[(args.typ, args.name)] = args.inputs
        state = _placeholder_state(args.typ, args.name, args.inputs)
        return state.pop("id", f"{args.name}-id"), state

    def call(self, args: pulumi.runtime.MockCallArgs):
        token, given = args.token, args.args
        if token == "aws:index/getRegion:getRegion":
            return {"region": MOCK_REGION, "name": MOCK_REGION, "id": MOCK_REGION}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"account_id": MOCK_ACCOUNT, "accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:root", "user_id": "MOCK", "id": MOCK_ACCOUNT}
        if token == "aws:ecs/getCluster:getCluster":
            name = given.get("clusterName") or given.get("cluster_name")
            return {"arn": f"arn:aws:ecs:{MOCK_REGION}:{MOCK_ACCOUNT}:cluster/{name}", "clusterName": name, "id": name}
        if token == "aws:eks/getCluster:getCluster":
            name = given.get("name")
            return {"arn": f"arn:aws:eks:{MOCK_REGION}:{MOCK_ACCOUNT}:cluster/{name}", "name": name, "id": name,
                    "identities": [{"oidcs": [{"issuer": MOCK_EKS_ISSUER}]}]}
        if token == "gcp:organizations/getClientConfig:getClientConfig":
            return {"project": MOCK_PROJECT, "region": "", "zone": "", "accessToken": "MOCK-TOKEN", "id": MOCK_PROJECT}
        if token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{MOCK_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}", "project": MOCK_PROJECT, "id": email}
        if token == "azure-native:authorization:getClientConfig":
            return {"subscriptionId": MOCK_SUBSCRIPTION, "tenantId": MOCK_TENANT, "clientId": _mock_uuid("deployer-client"),
                    "objectId": _mock_uuid("deployer-object")}
        if token == "azure-native:containerservice:getManagedCluster":
            group, cluster = given.get("resourceGroupName"), given.get("resourceName")
            return {"name": cluster, "location": MOCK_AZURE_LOCATION, "oidcIssuerProfile": {"enabled": True, "issuerURL": MOCK_AKS_ISSUER},
                    "id": f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{cluster}"}
        if token == "azure-native:managedidentity:getUserAssignedIdentity":
            key = f"{given.get('resourceGroupName')}/{given.get('resourceName')}"
            return {"name": given.get("resourceName"), "principalId": _mock_uuid(f"principal:{key}"),
                    "clientId": _mock_uuid(f"client:{key}"), "tenantId": MOCK_TENANT}
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration's parent and protection options."""

    def __init__(self, mocks: PlanMocks):
        super().__init__(mocks)
        self.registrations: list[tuple[str, str, str, str, bool, bool, bool]] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append((response.urn, request.parent, request.type, request.name, bool(request.custom),
                                       bool(request.protect), bool(request.retainOnDelete)))
        return response


_SDK_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native", "kubernetes": "pulumi_kubernetes"}


def sdk_class(token: str) -> Optional[type]:
    """The provider SDK class of a type token (``aws:iam/role:Role``); None for components and unknown packages."""
    import importlib

    package, module, name = token.split(":")
    if package not in _SDK_PACKAGES:
        return None
    if package == "kubernetes":  # "networking.k8s.io/v1" → networking.v1, "core/v1" → core.v1
        group, _, version = module.rpartition("/")
        module = f"{group.split('.')[0]}.{version}"
    else:
        module = module.split("/")[0]
    path = _SDK_PACKAGES[package] + ("" if module in ("index", "") else "." + module)
    return getattr(importlib.import_module(path), name)


def _job_of(urn: str, parents: dict[str, str], types: dict[str, str]) -> Optional[str]:
    while urn:
        if types.get(urn, "").startswith("dativo:"):
            return urn.rsplit("::", 1)[-1]
        urn = parents.get(urn, "")
    return None


class _Unsettled(Exception):
    """A value :func:`_settled` cannot read directly (an unknown, an input class, a pending output)."""


def _settled(value: Any) -> Any:
    """``value`` with every output replaced by its value, read from outputs that have already resolved.

    After ``run_pulumi_func`` every output is settled, so their values can be read
    without scheduling one ``Output.all``/``apply`` per nested dict and list and
    running the event loop again (what ``Output.from_input(value).future()`` does).
    """
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if type(value) is dict:
        return {k: _settled(v) for k, v in value.items()}
    if type(value) is list:
        return [_settled(v) for v in value]
    if type(value) is tuple:
        return tuple(_settled(v) for v in value)
    if isinstance(value, pulumi.Output):
        data = getattr(value, "_data", None)  # the SDK's single future of (value, known, secret, resources)
        if not (isinstance(data, asyncio.Future) and data.done()) or data.cancelled() or data.exception() is not None:
            raise _Unsettled
        result = data.result()
        if not getattr(result, "is_known", False) or contains_unknowns(result.value):
            raise _Unsettled
        return _settled(result.value)
    raise _Unsettled


def _resolve(value: Any) -> Any:
    try:
        return _settled(value)
    except _Unsettled:  # what the SDK itself would answer, at the cost of another turn of the event loop
        return _sync_await(pulumi.Output.from_input(value).future())


def _run(context: StackContext, job_files: Optional[tuple[str, ...]], buckets: tuple,
         resolved: Optional[tuple[StackContext, list[ResolvedJob]]] = None) -> Plan:
    started = time.perf_counter()
    ROOT.set(None)  # a fresh root stack for every plan, even in one process
    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="dativo-infra", stack=context.stack_name, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(stack_config(context))
    report: dict = {}
    REPORT.set(report)
    # the same entry point as `pulumi up`, reading the stack config set above (a fleet also says which files to read)
    _sync_await(run_pulumi_func(functools.partial(pulumi_program, job_files=job_files, buckets=buckets, resolved=resolved)))
    root = pulumi.runtime.get_root_resource()
    outputs = {name: _resolve(value) for name, value in sorted(getattr(root, "outputs", {}).items())}
    parents = {urn: parent for urn, parent, *_ in monitor.registrations}
    types = {urn: typ for urn, _, typ, *_ in monitor.registrations}
    resources = sorted(  # registration order depends on asyncio scheduling; the plan must not
        (PlannedResource(_job_of(urn, parents, types), typ, name, urn, custom, protect, retain, _whole_numbers(mocks.inputs.get((typ, name), {})))
         for urn, _, typ, name, custom, protect, retain in monitor.registrations),
        key=lambda r: (r.job or "", r.urn))
    return Plan(context.tenant, context.environment, resources, outputs, time.perf_counter() - started,
                report.get("warnings", []), report.get("scopes", {}))


def release_runtime() -> None:
    """Join the SDK's worker threads and close its event loop, once no more plans will run in this process.

    The mock monitor gives each executor thread an event loop of its own; left
    to interpreter teardown, such a loop is collected after its selector and
    prints an "Exception ignored ... Invalid file descriptor" traceback.
    """
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    # the SDK's sync_await gave each executor thread a loop of its own (pulumi.runtime.sync_await._ensure_event_loop);
    # the threads are joined now, their loops are not closed: close them while their sockets still exist
    import gc

    for other in gc.get_objects():
        if isinstance(other, asyncio.BaseEventLoop) and not other.is_closed() and not other.is_running():
            other.close()


def plan_stack(context: StackContext, job_files: Optional[tuple[str, ...]] = None, buckets: tuple = (), *,
               resolved: Optional[tuple[StackContext, list[ResolvedJob]]] = None) -> Plan:
    """Plan one tenant stack. Raises :class:`~dativo_infra.program.StackError` for bad jobs or settings.

    ``job_files``: the files that can hold the stack's jobs, when a fleet's discovery knows them;
    then ``buckets``: the storage of every file of the tree (:attr:`dativo_infra.fleet.StackRef.buckets`).
    ``resolved``: :func:`~dativo_infra.program.program_context` of ``context`` and the stack's jobs
    resolved with it (:func:`~dativo_infra.program.load_stack_jobs`), prepared ahead by a fleet: the
    program uses them instead of reading the files again (it reads them if its context differs).
    """
    return contextvars.copy_context().run(_run, context, job_files, buckets, resolved)


@contextmanager
def fresh_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop for one plan's mock runtime, closed after it; the thread's own loop is put back.

    Fleet workers, Dagster steps and tests plan one stack after another in one
    thread, and code that runs after a plan may still ask asyncio for the current loop.
    """
    try:
        previous: Optional[asyncio.AbstractEventLoop] = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # none in this thread
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(previous)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one plan, and one collection after it (callers: the CLI, fleet workers, Dagster).

    The mock runtime keeps every Output, future and task of a stack alive until
    the program ends, so collections during a plan scan an ever larger heap and
    free next to nothing: over a third of the CPU of a 200-job plan
    (``benchmarks/NOTES.md``). What the plan leaves as garbage is collected once, at
    the end. ``plan_stack`` itself leaves the collector alone: the benchmark compares
    it with the bare SDK under the same collector.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if enabled:
            gc.enable()


__all__ = ["Plan", "PlannedResource", "StackError", "fresh_event_loop", "gc_paused", "plan_stack", "release_runtime", "sdk_class"]
