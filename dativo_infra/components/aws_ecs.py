"""``dativo:aws:EcsJob``: one Dativo job as an ECS Fargate task, scheduled by EventBridge Scheduler."""
from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from . import aws_iam, aws_storage, lookups
from .args import EcsArgs
from .base import JobComponent

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


class EcsJob(JobComponent[EcsArgs]):
    TYPE = "dativo:aws:EcsJob"
    ARGS = EcsArgs

    def build(self, a: EcsArgs) -> dict[str, Any]:
        prefix = a.name_prefix
        region = a.region  # the job's, else the stack's aws:region: every regional resource names it (pulumi-aws 7)

        log_group = aws.cloudwatch.LogGroup(
            *self.child("logs"), name=a.log_group_name, retention_in_days=a.log_retention_days,
            kms_key_id=a.storage_kms_key_id or None, region=region)

        execution_role = aws.iam.Role(
            *self.child("execution-role"), name=f"{prefix}-exec",
            assume_role_policy=json.dumps(aws_iam.assume_role("ecs-tasks.amazonaws.com")))
        aws.iam.RolePolicyAttachment(
            *self.child("execution-policy"), role=execution_role.name, policy_arn=aws_iam.ECS_TASK_EXECUTION_POLICY)

        if a.service_account:
            task_role_arn: pulumi.Input[str] = a.service_account
        else:
            task_role = aws.iam.Role(
                *self.child("task-role"), name=f"{prefix}-task",
                assume_role_policy=json.dumps(aws_iam.assume_role("ecs-tasks.amazonaws.com")))
            if a.storage_bucket:
                aws.iam.RolePolicy(
                    *self.child("task-policy"), name=f"{prefix}-storage", role=task_role.id,
                    policy=json.dumps(aws_iam.storage_access(a)))
            task_role_arn = task_role.arn

        security_group = aws.ec2.SecurityGroup(
            *self.child("sg"), name=prefix, vpc_id=a.vpc_id,
            description=f"Dativo job {a.job_name} ({a.tenant_id}/{a.environment}): no ingress",
            tags={"Name": prefix}, region=region)
        egress = [("https", "0.0.0.0/0", 443, 443, "HTTPS to APIs (through the subnet's NAT when private)")]
        egress += [(f"private-{i}", cidr, 0, 65535, "TCP to private networks (VPC endpoints, catalogs)") for i, cidr in enumerate(PRIVATE_RANGES)]
        for role, cidr, low, high, text in egress:
            aws.vpc.SecurityGroupEgressRule(
                *self.child(f"egress-{role}"), security_group_id=security_group.id, cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=low, to_port=high, description=text, region=region)

        if a.create_cluster:
            cluster = aws.ecs.Cluster(
                *self.child("cluster"), name=a.cluster_name,
                settings=[{"name": "containerInsights", "value": "enabled"}], region=region)
            cluster_arn: pulumi.Input[str] = cluster.arn
        else:
            cluster_arn = lookups.ecs_cluster_arn(a.cluster_name, region)

        bucket_name = aws_storage.create_bucket(self, a) if a.storage_create_bucket else a.storage_bucket

        container = log_group.name.apply(lambda group: json.dumps([{
            "name": a.container_name,
            "image": a.image,
            "command": a.command,
            "essential": True,
            "readonlyRootFilesystem": True,
            "stopTimeout": a.stop_timeout_seconds,
            # the runner's caches and staging files go to /tmp, a writable bind mount on the task's ephemeral storage
            "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
            "environment": [{"name": "HOME", "value": "/tmp"}, {"name": "TMPDIR", "value": "/tmp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": a.job_name}},
        }]))
        task = aws.ecs.TaskDefinition(
            *self.child("task"), family=prefix, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(a.cpu_units), memory=str(a.compute_memory),
            execution_role_arn=execution_role.arn, task_role_arn=task_role_arn, container_definitions=container,
            volumes=[{"name": "scratch"}],
            ephemeral_storage={"size_in_gib": a.ephemeral_storage_gib} if a.ephemeral_storage_gib is not None else None,
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": a.cpu_architecture}, region=region)

        schedule_arn = None
        if a.schedule_expression:
            schedule_arn = self._schedule(a, task, cluster_arn, security_group, [execution_role.arn, task_role_arn])

        security_groups = [security_group.id, *a.security_group_ids]
        return {
            "cluster_name": a.cluster_name,
            "task_definition_arn": task.arn,
            "task_role_arn": task_role_arn,
            "execution_role_arn": execution_role.arn,
            "log_group_name": log_group.name,
            "security_group_id": security_group.id,
            "bucket_name": bucket_name,
            "schedule_arn": schedule_arn,
            "tags": a.tags,
            # what Dagster's EcsRunLauncher needs to launch this job
            "dagster": {
                "task_definition": task.arn,
                "container_name": a.container_name,
                "subnets": a.subnet_ids,
                "security_groups": security_groups,
                "assign_public_ip": a.assign_public_ip,
                # EcsRunLauncher reads ecs/cpu and ecs/memory; Fargate has no task timeout, so run monitoring enforces max_runtime
                "run_tags": {"ecs/cpu": str(a.cpu_units), "ecs/memory": str(a.compute_memory),
                             "dagster/max_runtime": str(a.max_runtime_seconds)},
                "retry_policy": {"max_retries": a.max_retries, "delay": a.retry_delay_seconds},
            },
        }

    def _schedule(self, a: EcsArgs, task: aws.ecs.TaskDefinition, cluster_arn: pulumi.Input[str],
                  security_group: aws.ec2.SecurityGroup, role_arns: list[pulumi.Input[str]]) -> pulumi.Output[str]:
        role = aws.iam.Role(
            *self.child("schedule-role"), name=f"{a.name_prefix}-sched",
            assume_role_policy=json.dumps(aws_iam.assume_role("scheduler.amazonaws.com")))
        aws.iam.RolePolicy(
            *self.child("schedule-policy"), name=f"{a.name_prefix}-run-task", role=role.id,
            policy=pulumi.Output.all(task.arn, cluster_arn, *role_arns).apply(
                lambda arns: json.dumps(aws_iam.run_task(arns[0], arns[1], list(arns[2:])))))
        schedule = aws.scheduler.Schedule(
            *self.child("schedule"), name=a.name_prefix, schedule_expression=a.schedule_expression,
            schedule_expression_timezone=a.schedule_timezone, flexible_time_window={"mode": "OFF"}, region=a.region,
            target={"arn": cluster_arn, "role_arn": role.arn, "retry_policy": {"maximum_retry_attempts": a.max_retries},
                    # the tasks it starts carry the job's tags (cost allocation), copied from the task definition
                    "ecs_parameters": {"task_definition_arn": task.arn, "launch_type": "FARGATE", "task_count": 1,
                                       "propagate_tags": "TASK_DEFINITION", "enable_ecs_managed_tags": True,
                                       "network_configuration": {"subnets": a.subnet_ids, "assign_public_ip": a.assign_public_ip,
                                                                 "security_groups": [security_group.id, *a.security_group_ids]}}})
        return schedule.arn
