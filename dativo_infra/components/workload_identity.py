"""The cloud side of a Kubernetes job's identity: one function per cloud behind the cluster.

Each creates an identity that only the job's ServiceAccount (``NAMESPACE/NAME``)
can assume, grants it the job's storage exactly as the cloud's own runtime
component does, and returns what the ServiceAccount and the pods must carry.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

from . import aws_iam, azure_roles, gcp_iam, lookups
from .args import KubernetesArgs

if TYPE_CHECKING:
    from .base import JobComponent

EKS_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
GKE_SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account"
AZURE_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
AZURE_USE_LABEL = "azure.workload.identity/use"  # the AKS webhook injects the token only into pods labelled so


@dataclass
class CloudIdentity:
    identity: pulumi.Output  # role ARN, service account e-mail or client ID
    annotations: dict = field(default_factory=dict)  # on the ServiceAccount
    pod_labels: dict = field(default_factory=dict)  # on the pods, next to the job's labels


def irsa_trust(issuer_url: str, account: str, namespace: str, service_account: str) -> dict:
    """Trust policy: only this ServiceAccount, through the cluster's OIDC provider, for STS."""
    provider = issuer_url.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ThisServiceAccountOnly",
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{provider}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{provider}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                           f"{provider}:aud": "sts.amazonaws.com"}},
        }],
    }


def aws_identity(component: JobComponent, a: KubernetesArgs, namespace: str, service_account: str) -> CloudIdentity:
    import pulumi_aws as aws

    issuer = lookups.eks_oidc_issuer(a.cluster_name, a.region)
    account = lookups.aws_account_id()
    role = aws.iam.Role(
        *component.child("role"), name=f"{a.name_prefix}-k8s",
        assume_role_policy=pulumi.Output.all(issuer, account).apply(
            lambda found: json.dumps(irsa_trust(found[0], found[1], namespace, service_account))))
    if a.storage_create_bucket:
        from .aws_storage import create_bucket

        create_bucket(component, a)  # the same bucket the ECS runtime creates: encrypted, versioned, private, protected
    if a.storage_bucket:
        aws.iam.RolePolicy(*component.child("role-policy"), name=f"{a.name_prefix}-storage", role=role.id,
                           policy=json.dumps(aws_iam.storage_access(a)))
    return CloudIdentity(role.arn, {EKS_ROLE_ANNOTATION: role.arn})


def gcp_identity(component: JobComponent, a: KubernetesArgs, namespace: str, service_account: str) -> CloudIdentity:
    import pulumi_gcp as gcp

    project = lookups.gcp_project()
    account = gcp.serviceaccount.Account(
        *component.child("gsa"), account_id=f"{a.name_prefix}-k8s",
        display_name=f"Dativo job {a.job_name} ({a.tenant_id}/{a.environment}) on GKE")
    # Workload Identity: the Kubernetes ServiceAccount may act as this Google service account, nothing else may
    gcp.serviceaccount.IAMMember(
        *component.child("workload-identity"), service_account_id=account.name, role=gcp_iam.WORKLOAD_IDENTITY_USER,
        member=project.apply(lambda p: f"serviceAccount:{p}.svc.id.goog[{namespace}/{service_account}]"))
    bucket = gcp_iam.create_bucket(component, a) if a.storage_create_bucket else a.storage_bucket
    gcp_iam.grant_storage(component, a, gcp_iam.member_of(account.email), bucket)
    return CloudIdentity(account.email, {GKE_SERVICE_ACCOUNT_ANNOTATION: account.email})


def azure_identity(component: JobComponent, a: KubernetesArgs, namespace: str, service_account: str) -> CloudIdentity:
    import pulumi_azure_native as azure_native

    group = a.resource_group
    cluster = lookups.aks_cluster(group, a.cluster_name)
    identity = azure_native.managedidentity.UserAssignedIdentity(
        *component.child("identity"), resource_name_=f"{a.name_prefix}-id", resource_group_name=group,
        location=a.region or cluster.location)
    azure_native.managedidentity.FederatedIdentityCredential(
        *component.child("federated-credential"), resource_name_=identity.name, resource_group_name=group,
        federated_identity_credential_resource_name=f"{a.name_prefix}-k8s",
        issuer=cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else ""),
        subject=f"system:serviceaccount:{namespace}:{service_account}", audiences=[azure_roles.WORKLOAD_IDENTITY_AUDIENCE])
    # on Azure storage.bucket is "account/container" (the container runtime's variables split it the same way)
    account, _, container = a.storage_bucket.partition("/")
    depends = [azure_roles.create_container(component, a, account, container)] if a.storage_create_bucket else []
    if account and container:
        subscription = lookups.azure_subscription_id()
        azure_roles.grant_container(component, a, subscription, account, container, identity.principal_id, depends)
    return CloudIdentity(identity.client_id, {AZURE_CLIENT_ID_ANNOTATION: identity.client_id}, {AZURE_USE_LABEL: "true"})


# cloud_provider → (component, args, namespace, service account name) → what the ServiceAccount and the pods carry
IDENTITIES: dict[str, Callable[[JobComponent, KubernetesArgs, str, str], CloudIdentity]] = {
    "aws": aws_identity, "gcp": gcp_identity, "azure": azure_identity}
