"""``dativo:gcp:CloudRunJob``: one Dativo job as a Cloud Run (v2) job, scheduled by Cloud Scheduler."""
from __future__ import annotations

from typing import Any, Mapping

import pulumi
import pulumi_gcp as gcp

from . import gcp_iam, lookups
from .base import JobComponent

RUN_INVOKER = "roles/run.invoker"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class CloudRunJob(JobComponent):
    TYPE = "dativo:gcp:CloudRunJob"

    def build(self, v: Mapping[str, Any]) -> dict[str, Any]:
        prefix = v["name_prefix"]
        project = lookups.gcp_project()

        if v["service_account"]:
            runner_email: pulumi.Input[str] = v["service_account"]
        else:
            runner = gcp.serviceaccount.Account(
                *self.child("runner"), account_id=f"{prefix}-run",
                display_name=f"Dativo job {v['job_name']} ({v['tenant_id']}/{v['environment']})")
            runner_email = runner.email

        bucket_name = gcp_iam.create_bucket(self, v) if v["storage_create_bucket"] else v["storage_bucket"]
        gcp_iam.grant_storage(self, v, gcp_iam.member_of(runner_email), bucket_name)

        template: dict[str, Any] = {
            "containers": [{
                "name": v["container_name"],
                "image": v["image"],
                "commands": v["command"],
                "resources": {"limits": {"cpu": v["cpu_limit"], "memory": v["memory_limit"]}},
            }],
            "timeout": f"{v['max_runtime_seconds']}s",
            "max_retries": v["max_retries"],
            "service_account": runner_email,
        }
        if v["network"]:
            # Direct VPC egress; PRIVATE_RANGES_ONLY when private_networking, else all traffic through the VPC
            interface = {"network": v["network"], **({"subnetwork": v["subnetwork"]} if v["subnetwork"] else {})}
            template["vpc_access"] = {"network_interfaces": [interface], "egress": v["vpc_egress"]}
        job = gcp.cloudrunv2.Job(
            *self.child("job"), name=prefix, location=v["region"], template={"template": template},
            deletion_protection=False)  # the job holds no data (the bucket does, and is protected)

        scheduler_name = invoker_email = None
        if v["schedule_cron"]:
            scheduler_name, invoker_email = self._schedule(v, job, project)

        return {
            "job_name": job.name,
            "job_id": job.id,
            "region": v["region"],
            "service_account_email": runner_email,
            "bucket_name": bucket_name,
            "scheduler_job_name": scheduler_name,
            "invoker_service_account_email": invoker_email,
            "tags": v["tags"],
            # what a Dagster op (or `gcloud run jobs execute`) needs to start a run
            "dagster": {
                "project": project,
                "region": v["region"],
                "job_name": job.name,
                "retry_policy": {"max_retries": v["max_retries"], "delay": v["retry_delay_seconds"]},
            },
        }

    def _schedule(self, v, job, project) -> tuple[pulumi.Output, pulumi.Output]:
        # its own identity, allowed to run this one job and nothing else
        invoker = gcp.serviceaccount.Account(
            *self.child("invoker"), account_id=f"{v['name_prefix']}-inv",
            display_name=f"Runs Dativo job {v['job_name']} on schedule")
        gcp.cloudrunv2.JobIamMember(
            *self.child("invoker-iam"), name=job.name, location=v["region"], role=RUN_INVOKER,
            member=gcp_iam.member_of(invoker.email))
        uri = pulumi.Output.all(project, job.name).apply(
            lambda a: f"https://run.googleapis.com/v2/projects/{a[0]}/locations/{v['region']}/jobs/{a[1]}:run")
        scheduler = gcp.cloudscheduler.Job(
            *self.child("schedule"), name=v["name_prefix"], region=v["region"], schedule=v["schedule_cron"],
            time_zone=v["schedule_timezone"],
            http_target={"uri": uri, "http_method": "POST",
                         "oauth_token": {"service_account_email": invoker.email, "scope": CLOUD_PLATFORM_SCOPE}})
        return scheduler.name, invoker.email
