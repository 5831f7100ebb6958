"""Azure storage access of a job's identity, shared by Container Apps jobs and Kubernetes on AKS.

The role assignment is scoped to the job's container, and an ABAC condition
(Azure docs, storage-auth-abac-examples: "read, write or delete blobs in named
containers with a path" and "list blobs ... with a path") limits every data
action of Storage Blob Data Contributor to blob paths, and listing to
prefixes, under the job's prefix.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, Union

import pulumi
import pulumi_azure_native as azure_native

from . import lookups
from .args import CommonArgs, ContainerAppsArgs, KubernetesArgs, fields_of

if TYPE_CHECKING:
    from .base import JobComponent

# the runtimes of an Azure job with storage: both know the job's resource group
AzureArgs = Union[ContainerAppsArgs, KubernetesArgs]


STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"

_CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers"
_BLOBS = f"{_CONTAINERS}/blobs"
# every data action of Storage Blob Data Contributor (read also covers listing, handled by the second clause)
_DATA_ACTIONS = ("read", "write", "add/action", "delete", "move/action")


def container_scope(subscription: str, resource_group: str, account: str, container: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Storage"
            f"/storageAccounts/{account}/blobServices/default/containers/{container}")


def role_definition(subscription: str, role: str = STORAGE_BLOB_DATA_CONTRIBUTOR) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def prefix_condition(container: str, prefix: str) -> Optional[str]:
    """ABAC condition (version 2.0): blob operations only under ``prefix/``; None for the whole container."""
    if not prefix:
        return None
    path = f"{prefix}/"
    name = f"@Resource[{_CONTAINERS}:name] StringEquals '{container}'"
    guarded = " AND ".join(
        f"!(ActionMatches{{'{_BLOBS}/read'}} AND NOT SubOperationMatches{{'Blob.List'}})" if action == "read"
        else f"!(ActionMatches{{'{_BLOBS}/{action}'}})" for action in _DATA_ACTIONS)
    listing = f"!(ActionMatches{{'{_BLOBS}/read'}} AND SubOperationMatches{{'Blob.List'}})"
    return (f"(({guarded}) OR ({name} AND @Resource[{_BLOBS}:path] StringStartsWith '{path}'))"
            f" AND (({listing}) OR ({name} AND @Request[{_BLOBS}:prefix] StringStartsWith '{path}'))")


def assignment_name(args: Union[CommonArgs, Mapping[str, Any]], account: str, container: str) -> str:
    """``args``: the job's, or its variables by name (the Terraform export's, to compare the two tools' GUIDs)."""
    a = fields_of(args, CommonArgs)
    # role assignment names are GUIDs; derive one so the URN and the assignment stay stable across runs
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dativo:{a.name_prefix}:{account}/{container}:{STORAGE_BLOB_DATA_CONTRIBUTOR}"))


def grant_container(component: JobComponent, a: AzureArgs, subscription: pulumi.Input[str], account: str, container: str,
                    principal_id: pulumi.Input[str], depends_on: Optional[list] = None) -> azure_native.authorization.RoleAssignment:
    """Storage Blob Data Contributor on the job's container, limited to its prefix."""
    sub = pulumi.Output.from_input(subscription)
    condition = prefix_condition(container, a.storage_prefix)
    return azure_native.authorization.RoleAssignment(
        *component.child("storage-role", depends_on=depends_on or []),
        role_assignment_name=assignment_name(a, account, container),
        scope=sub.apply(lambda s: container_scope(s, a.resource_group, account, container)),
        role_definition_id=sub.apply(role_definition), principal_id=principal_id, principal_type="ServicePrincipal",
        description=f"Dativo job {a.job_name} ({a.tenant_id}/{a.environment}): blobs under {account}/{container}/{a.storage_prefix}",
        **({"condition": condition, "condition_version": "2.0"} if condition else {}))


def create_container(component: JobComponent, a: AzureArgs, account: str, container: str) -> azure_native.storage.BlobContainer:
    """The job's container, when this stack owns it: private, and never deleted by destroy."""
    return azure_native.storage.BlobContainer(
        *component.child("container", protect=True, retain_on_delete=True),
        account_name=account, container_name=container, resource_group_name=a.resource_group, public_access="None")


def existing_identity(component: JobComponent, resource_id: str) -> pulumi.Output:
    """The identity named by ``service_account`` (its resource ID), looked up for its principal and client IDs."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    # the job rules checked the shape: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME
    group = parts[lowered.index("resourcegroups") + 1]
    name = parts[lowered.index("userassignedidentities") + 1]
    return lookups.user_assigned_identity(group, name)
