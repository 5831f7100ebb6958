"""``dativo:azure:ContainerAppsJob``: one Dativo job as an Azure Container Apps job in an existing environment."""
from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure_native

from . import azure_roles, lookups
from .args import ContainerAppsArgs
from .base import JobComponent


class ContainerAppsJob(JobComponent[ContainerAppsArgs]):
    TYPE = "dativo:azure:ContainerAppsJob"
    ARGS = ContainerAppsArgs

    def build(self, a: ContainerAppsArgs) -> dict[str, Any]:
        prefix, group = a.name_prefix, a.resource_group
        subscription = lookups.azure_subscription_id()

        if a.service_account:
            found = azure_roles.existing_identity(self, a.service_account)
            identity_id: pulumi.Input[str] = a.service_account
            principal_id, client_id = found.principal_id, found.client_id
        else:
            identity = azure_native.managedidentity.UserAssignedIdentity(
                *self.child("identity"), resource_name_=f"{prefix}-id", resource_group_name=group, location=a.region)
            identity_id, principal_id, client_id = identity.id, identity.principal_id, identity.client_id

        account, container = a.storage_account, a.storage_container
        depends = [azure_roles.create_container(self, a, account, container)] if a.storage_create_bucket else []
        role = None
        if account and container:
            role = azure_roles.grant_container(self, a, subscription, account, container, principal_id, depends)

        environment_id = subscription.apply(
            lambda s: f"/subscriptions/{s}/resourceGroups/{group}/providers/Microsoft.App/managedEnvironments/{a.environment_name}")
        runs = {"parallelism": 1, "replica_completion_count": 1}
        configuration: dict[str, Any] = {
            "replica_timeout": a.max_runtime_seconds,
            "replica_retry_limit": a.max_retries,
        }
        if a.schedule_cron:  # 5-field cron, evaluated in UTC (the job model rejects other time zones here)
            configuration.update(trigger_type="Schedule", schedule_trigger_config={"cron_expression": a.schedule_cron, **runs})
        else:
            configuration.update(trigger_type="Manual", manual_trigger_config=runs)
        job = azure_native.app.Job(
            *self.child("job"), job_name=prefix, resource_group_name=group, location=a.region,
            environment_id=environment_id, configuration=configuration,
            identity={"type": "UserAssigned", "user_assigned_identities": [identity_id]},
            template={"containers": [{
                "name": a.container_name,
                "image": a.image,
                "command": a.command,
                "resources": {"cpu": a.cpu_cores, "memory": a.memory_size},
                # DefaultAzureCredential picks the user-assigned identity by its client ID
                "env": [{"name": "AZURE_CLIENT_ID", "value": client_id}],
            }]})

        return {
            "job_name": job.name,
            "job_id": job.id,
            "environment_id": environment_id,
            "identity_id": identity_id,
            "identity_client_id": client_id,
            "identity_principal_id": principal_id,
            "role_assignment_id": role.id if role else None,
            "storage_account": account,
            "storage_container": container,
            "tags": a.tags,
            # what a Dagster op (or `az containerapp job start`) needs to start a run
            "dagster": {
                "resource_group": group,
                "job_name": job.name,
                "retry_policy": {"max_retries": a.max_retries, "delay": a.retry_delay_seconds},
            },
        }
