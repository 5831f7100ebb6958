"""Data sources the components read, looked up once per stack rather than once per job.

Every ``get_*_output`` is an invoke: a call to the provider (an RPC to the
engine) with its own outputs to resolve. What they return — the provider's
region and account, the client configuration, a cluster by name — is the
same for every job of a stack, so :func:`dativo_infra.program.build_stack`
opens a :func:`per_stack` scope and each distinct lookup runs once in it.
Outside such a scope (a component built on its own, as some tests do) every
call looks up afresh, as before.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Optional

_CACHE: ContextVar[Optional[dict]] = ContextVar("dativo_infra_lookups", default=None)


@contextmanager
def per_stack() -> Iterator[None]:
    """Share lookups between the components built inside this block (one stack's program)."""
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def once(key: tuple, make: Callable[[], Any]) -> Any:
    cache = _CACHE.get()
    if cache is None:
        return make()
    if key not in cache:
        cache[key] = make()
    return cache[key]


# -- AWS ------------------------------------------------------------------------------------------------------

def aws_account_id():
    """The account of the AWS credentials (Output[str])."""
    import pulumi_aws as aws

    return once(("aws", "account"), lambda: aws.get_caller_identity_output().account_id)


def ecs_cluster_arn(name: str, region: str):
    """ARN of an existing ECS cluster in ``region`` (Output[str])."""
    import pulumi_aws as aws

    return once(("aws", "ecs-cluster", region, name), lambda: aws.ecs.get_cluster_output(cluster_name=name, region=region or None).arn)


def eks_oidc_issuer(name: str, region: str):
    """OIDC issuer URL of an existing EKS cluster in ``region`` (Output[str])."""
    import pulumi_aws as aws

    return once(("aws", "eks-issuer", region, name),
                lambda: aws.eks.get_cluster_output(name=name, region=region or None).identities[0].oidcs[0].issuer)


# -- GCP ------------------------------------------------------------------------------------------------------

def gcp_project():
    """The Google provider's project (Output[str])."""
    import pulumi_gcp as gcp

    return once(("gcp", "project"), lambda: gcp.organizations.get_client_config_output().project)


def gcs_service_agent_email():
    """E-mail of the project's Cloud Storage service agent (Output[str])."""
    import pulumi_gcp as gcp

    return once(("gcp", "gcs-agent"), lambda: gcp.storage.get_project_service_account_output().email_address)


# -- Azure ----------------------------------------------------------------------------------------------------

def azure_subscription_id():
    """The subscription of the Azure credentials (Output[str])."""
    import pulumi_azure_native as azure_native

    return once(("azure", "subscription"), lambda: azure_native.authorization.get_client_config_output().subscription_id)


def aks_cluster(resource_group: str, name: str):
    """An existing AKS cluster (the invoke's result: ``location``, ``oidc_issuer_profile``...)."""
    import pulumi_azure_native as azure_native

    return once(("azure", "aks", resource_group, name),
                lambda: azure_native.containerservice.get_managed_cluster_output(resource_group_name=resource_group, resource_name=name))


def user_assigned_identity(resource_group: str, name: str):
    """An existing user-assigned identity (the invoke's result: ``principal_id``, ``client_id``...)."""
    import pulumi_azure_native as azure_native

    return once(("azure", "identity", resource_group, name),
                lambda: azure_native.managedidentity.get_user_assigned_identity_output(resource_group_name=resource_group, resource_name=name))
