"""AWS IAM documents, as pure functions of the job's variables (tested with parliament and moto)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

from .args import CommonArgs, fields_of

ECS_TASK_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def assume_role(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def storage_access(args: Union[CommonArgs, Mapping[str, Any]]) -> dict:
    """Least privilege on the job's storage: objects under the prefix, listing only of the prefix, the job's key.

    ``args``: the job's (ECS or Kubernetes on EKS), or variables by name (at least the three ``storage_*`` this reads).
    """
    a = fields_of(args, CommonArgs)
    bucket, prefix = a.storage_bucket, a.storage_prefix
    objects = f"arn:aws:s3:::{bucket}/{prefix}/*" if prefix else f"arn:aws:s3:::{bucket}/*"
    statements: list[dict] = [
        {
            "Sid": "ObjectsUnderPrefix",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": objects,
        },
        {
            "Sid": "ListPrefixOnly",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            # "acme/" and what is under it, never the bare "acme", whose listing would return "acme-eu/..." keys too
            **({"Condition": {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}}} if prefix else {}),
        },
    ]
    if a.storage_kms_key_id:
        statements.append({
            "Sid": "UseJobKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": a.storage_kms_key_id,
        })
    return {"Version": "2012-10-17", "Statement": statements}


def run_task(task_definition_arn: str, cluster_arn: str, role_arns: list[str]) -> dict:
    """What the EventBridge Scheduler role may do: run this task family in this cluster, tag those tasks, pass their roles."""
    family = task_definition_arn.rsplit(":", 1)[0] + ":*"  # any revision of this family
    tasks = cluster_arn.replace(":cluster/", ":task/", 1) + "/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RunThisTaskFamily", "Effect": "Allow", "Action": "ecs:RunTask", "Resource": family,
             "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
            # propagate_tags tags the task at launch, which ECS authorizes as ecs:TagResource on RunTask
            {"Sid": "TagTheTasksItStarts", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": tasks,
             "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
            {"Sid": "PassTheTaskRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arns},
        ],
    }
