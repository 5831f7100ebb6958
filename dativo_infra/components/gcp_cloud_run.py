"""``dativo:gcp:CloudRunJob``: one Dativo job as a Cloud Run (v2) job, scheduled by Cloud Scheduler."""
from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from . import gcp_iam, lookups
from .args import CloudRunArgs
from .base import JobComponent

RUN_INVOKER = "roles/run.invoker"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class CloudRunJob(JobComponent[CloudRunArgs]):
    TYPE = "dativo:gcp:CloudRunJob"
    ARGS = CloudRunArgs

    def build(self, a: CloudRunArgs) -> dict[str, Any]:
        prefix = a.name_prefix
        project = lookups.gcp_project()

        if a.service_account:
            runner_email: pulumi.Input[str] = a.service_account
        else:
            runner = gcp.serviceaccount.Account(
                *self.child("runner"), account_id=f"{prefix}-run",
                display_name=f"Dativo job {a.job_name} ({a.tenant_id}/{a.environment})")
            runner_email = runner.email

        bucket_name = gcp_iam.create_bucket(self, a) if a.storage_create_bucket else a.storage_bucket
        gcp_iam.grant_storage(self, a, gcp_iam.member_of(runner_email), bucket_name)

        template: dict[str, Any] = {
            "containers": [{
                "name": a.container_name,
                "image": a.image,
                "commands": a.command,
                "resources": {"limits": {"cpu": a.cpu_limit, "memory": a.memory_limit}},
            }],
            "timeout": f"{a.max_runtime_seconds}s",
            "max_retries": a.max_retries,
            "service_account": runner_email,
        }
        if a.network:
            # Direct VPC egress; PRIVATE_RANGES_ONLY when private_networking, else all traffic through the VPC
            interface = {"network": a.network, **({"subnetwork": a.subnetwork} if a.subnetwork else {})}
            template["vpc_access"] = {"network_interfaces": [interface], "egress": a.vpc_egress}
        job = gcp.cloudrunv2.Job(
            # the executions' labels too (what an execution's cost is reported under), as the module sets template.labels
            *self.child("job"), name=prefix, location=a.region, template={"labels": dict(a.tags), "template": template},
            deletion_protection=False)  # the job holds no data (the bucket does, and is protected)

        scheduler_name = invoker_email = None
        if a.schedule_cron:
            scheduler_name, invoker_email = self._schedule(a, job, project)

        return {
            "job_name": job.name,
            "job_id": job.id,
            "region": a.region,
            "service_account_email": runner_email,
            "bucket_name": bucket_name,
            "scheduler_job_name": scheduler_name,
            "invoker_service_account_email": invoker_email,
            "tags": a.tags,
            # what a Dagster op (or `gcloud run jobs execute`) needs to start a run
            "dagster": {
                "project": project,
                "region": a.region,
                "job_name": job.name,
                "retry_policy": {"max_retries": a.max_retries, "delay": a.retry_delay_seconds},
            },
        }

    def _schedule(self, a: CloudRunArgs, job: gcp.cloudrunv2.Job, project: pulumi.Output[str]) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        # its own identity, allowed to run this one job and nothing else
        invoker = gcp.serviceaccount.Account(
            *self.child("invoker"), account_id=f"{a.name_prefix}-inv",
            display_name=f"Runs Dativo job {a.job_name} on schedule")
        gcp.cloudrunv2.JobIamMember(
            *self.child("invoker-iam"), name=job.name, location=a.region, role=RUN_INVOKER,
            member=gcp_iam.member_of(invoker.email))
        uri = pulumi.Output.all(project, job.name).apply(
            lambda names: f"https://run.googleapis.com/v2/projects/{names[0]}/locations/{a.region}/jobs/{names[1]}:run")
        scheduler = gcp.cloudscheduler.Job(
            *self.child("schedule"), name=a.name_prefix, region=a.region, schedule=a.schedule_cron,
            time_zone=a.schedule_timezone,
            http_target={"uri": uri, "http_method": "POST",
                         "oauth_token": {"service_account_email": invoker.email, "scope": CLOUD_PLATFORM_SCOPE}})
        return scheduler.name, invoker.email
