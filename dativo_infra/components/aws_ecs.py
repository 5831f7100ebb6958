"""``dativo:aws:EcsJob``: one Dativo job as an ECS Fargate task, scheduled by EventBridge Scheduler."""
from __future__ import annotations

import json
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from . import aws_iam, aws_storage, lookups
from .base import JobComponent

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


class EcsJob(JobComponent):
    TYPE = "dativo:aws:EcsJob"

    def build(self, v: Mapping[str, Any]) -> dict[str, Any]:
        prefix = v["name_prefix"]
        region = v["region"]  # the job's, else the stack's aws:region: every regional resource names it (pulumi-aws 7)

        log_group = aws.cloudwatch.LogGroup(
            *self.child("logs"), name=v["log_group_name"], retention_in_days=v["log_retention_days"],
            kms_key_id=v["storage_kms_key_id"] or None, region=region)

        execution_role = aws.iam.Role(
            *self.child("execution-role"), name=f"{prefix}-exec",
            assume_role_policy=json.dumps(aws_iam.assume_role("ecs-tasks.amazonaws.com")))
        aws.iam.RolePolicyAttachment(
            *self.child("execution-policy"), role=execution_role.name, policy_arn=aws_iam.ECS_TASK_EXECUTION_POLICY)

        if v["service_account"]:
            task_role_arn: pulumi.Input[str] = v["service_account"]
        else:
            task_role = aws.iam.Role(
                *self.child("task-role"), name=f"{prefix}-task",
                assume_role_policy=json.dumps(aws_iam.assume_role("ecs-tasks.amazonaws.com")))
            if v["storage_bucket"]:
                aws.iam.RolePolicy(
                    *self.child("task-policy"), name=f"{prefix}-storage", role=task_role.id,
                    policy=json.dumps(aws_iam.storage_access(v)))
            task_role_arn = task_role.arn

        security_group = aws.ec2.SecurityGroup(
            *self.child("sg"), name=prefix, vpc_id=v["vpc_id"],
            description=f"Dativo job {v['job_name']} ({v['tenant_id']}/{v['environment']}): no ingress",
            tags={"Name": prefix}, region=region)
        egress = [("https", "0.0.0.0/0", 443, 443, "HTTPS to APIs (through the subnet's NAT when private)")]
        egress += [(f"private-{i}", cidr, 0, 65535, "TCP to private networks (VPC endpoints, catalogs)") for i, cidr in enumerate(PRIVATE_RANGES)]
        for role, cidr, low, high, text in egress:
            aws.vpc.SecurityGroupEgressRule(
                *self.child(f"egress-{role}"), security_group_id=security_group.id, cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=low, to_port=high, description=text, region=region)

        if v["create_cluster"]:
            cluster = aws.ecs.Cluster(
                *self.child("cluster"), name=v["cluster_name"],
                settings=[{"name": "containerInsights", "value": "enabled"}], region=region)
            cluster_arn: pulumi.Input[str] = cluster.arn
        else:
            cluster_arn = lookups.ecs_cluster_arn(v["cluster_name"], region)

        bucket_name = aws_storage.create_bucket(self, v) if v["storage_create_bucket"] else v["storage_bucket"]

        container = log_group.name.apply(lambda group: json.dumps([{
            "name": v["container_name"],
            "image": v["image"],
            "command": v["command"],
            "essential": True,
            "readonlyRootFilesystem": True,
            "stopTimeout": v["stop_timeout_seconds"],
            # the runner's caches and staging files go to /tmp, a writable bind mount on the task's ephemeral storage
            "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
            "environment": [{"name": "HOME", "value": "/tmp"}, {"name": "TMPDIR", "value": "/tmp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": v["job_name"]}},
        }]))
        task = aws.ecs.TaskDefinition(
            *self.child("task"), family=prefix, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(v["cpu_units"]), memory=str(v["compute_memory"]),
            execution_role_arn=execution_role.arn, task_role_arn=task_role_arn, container_definitions=container,
            volumes=[{"name": "scratch"}],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"}, region=region)

        schedule_arn = None
        if v["schedule_expression"]:
            schedule_arn = self._schedule(v, task, cluster_arn, security_group, [execution_role.arn, task_role_arn])

        security_groups = [security_group.id, *v["security_group_ids"]]
        return {
            "cluster_name": v["cluster_name"],
            "task_definition_arn": task.arn,
            "task_role_arn": task_role_arn,
            "execution_role_arn": execution_role.arn,
            "log_group_name": log_group.name,
            "security_group_id": security_group.id,
            "bucket_name": bucket_name,
            "schedule_arn": schedule_arn,
            "tags": v["tags"],
            # what Dagster's EcsRunLauncher needs to launch this job
            "dagster": {
                "task_definition": task.arn,
                "container_name": v["container_name"],
                "subnets": v["subnet_ids"],
                "security_groups": security_groups,
                "assign_public_ip": v["assign_public_ip"],
                # EcsRunLauncher reads ecs/cpu and ecs/memory; Fargate has no task timeout, so run monitoring enforces max_runtime
                "run_tags": {"ecs/cpu": str(v["cpu_units"]), "ecs/memory": str(v["compute_memory"]),
                             "dagster/max_runtime": str(v["max_runtime_seconds"])},
                "retry_policy": {"max_retries": v["max_retries"], "delay": v["retry_delay_seconds"]},
            },
        }

    def _schedule(self, v, task, cluster_arn, security_group, role_arns) -> pulumi.Output:
        role = aws.iam.Role(
            *self.child("schedule-role"), name=f"{v['name_prefix']}-sched",
            assume_role_policy=json.dumps(aws_iam.assume_role("scheduler.amazonaws.com")))
        aws.iam.RolePolicy(
            *self.child("schedule-policy"), name=f"{v['name_prefix']}-run-task", role=role.id,
            policy=pulumi.Output.all(task.arn, cluster_arn, *role_arns).apply(lambda a: json.dumps(aws_iam.run_task(a[0], a[1], list(a[2:])))))
        schedule = aws.scheduler.Schedule(
            *self.child("schedule"), name=v["name_prefix"], schedule_expression=v["schedule_expression"],
            schedule_expression_timezone=v["schedule_timezone"], flexible_time_window={"mode": "OFF"}, region=v["region"],
            target={"arn": cluster_arn, "role_arn": role.arn, "retry_policy": {"maximum_retry_attempts": v["max_retries"]},
                    # the tasks it starts carry the job's tags (cost allocation), copied from the task definition
                    "ecs_parameters": {"task_definition_arn": task.arn, "launch_type": "FARGATE", "task_count": 1,
                                       "propagate_tags": "TASK_DEFINITION", "enable_ecs_managed_tags": True,
                                       "network_configuration": {"subnets": v["subnet_ids"], "assign_public_ip": v["assign_public_ip"],
                                                                 "security_groups": [security_group.id, *v["security_group_ids"]]}}})
        return schedule.arn
