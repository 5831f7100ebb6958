# One Dativo job on ECS Fargate: log group, execution and task roles, a security group without
# ingress, the task definition and, when asked for, the cluster, the bucket (with the task role's
# storage policy, through aws-job-storage) and a schedule.
# The same resources as the Pulumi component dativo:aws:EcsJob (docs/parity.md).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {
  region = local.region_override
}

locals {
  account_id      = data.aws_caller_identity.current.account_id
  partition       = data.aws_partition.current.partition
  region_override = var.region == "" ? null : var.region
  region          = data.aws_region.current.region

  create_task_role = var.service_account == ""
  task_role_arn = (
    local.create_task_role ? aws_iam_role.task[0].arn :
    startswith(var.service_account, "arn:") ? var.service_account :
    "arn:${local.partition}:iam::${local.account_id}:role/${var.service_account}"
  )

  cluster_name       = var.create_cluster ? aws_ecs_cluster.this[0].name : var.cluster_name
  cluster_arn        = var.create_cluster ? aws_ecs_cluster.this[0].arn : "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${var.cluster_name}"
  security_group_ids = concat([aws_security_group.this.id], var.security_group_ids)
}

# --- logs --------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: retention is the job's choice (log_retention_days, 30 days by default), not a fixed year
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.storage_kms_key_id == "" ? null : var.storage_kms_key_id
  region            = local.region_override
  tags              = var.tags
}

# --- roles -------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    sid     = "EcsTasksOfThisAccount"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name_prefix}-exec"
  description        = "ECS task execution role of Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  count = local.create_task_role ? 1 : 0

  name               = "${var.name_prefix}-task"
  description        = "Task role of Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): its storage prefix only"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

# the task role's storage policy, and the bucket when the job creates it
module "storage" {
  source = "../aws-job-storage"

  name_prefix           = var.name_prefix
  region                = var.region
  role_name             = local.create_task_role ? aws_iam_role.task[0].name : null # a role given by name or ARN keeps its own policies
  storage_bucket        = var.storage_bucket
  storage_create_bucket = var.storage_create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  tags                  = var.tags
}

# --- network -----------------------------------------------------------------------------------

resource "aws_security_group" "this" {
  # checkov:skip=CKV2_AWS_5: attached at launch time by the schedule below and by Dagster (output security_group_ids)
  name        = var.name_prefix
  description = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): no ingress; egress HTTPS and private ranges"
  vpc_id      = var.vpc_id
  region      = local.region_override
  tags        = merge({ Name = var.name_prefix }, var.tags)
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to SaaS APIs and AWS endpoints (through NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  region            = local.region_override
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "private" {
  for_each = toset(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])

  security_group_id = aws_security_group.this.id
  description       = "TCP to private ranges (databases, catalogs, VPC endpoints)"
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = each.value
  region            = local.region_override
  tags              = var.tags
}

# --- task ----------------------------------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name_prefix
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu_units)
  memory                   = tostring(var.compute_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = local.task_role_arn
  region                   = local.region_override

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "ephemeral_storage" {
    for_each = var.ephemeral_storage_gib == null ? [] : [var.ephemeral_storage_gib]
    content {
      size_in_gib = ephemeral_storage.value
    }
  }

  # the root filesystem is read-only; /tmp is a writable bind mount on the task's ephemeral storage
  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([{
    name                   = var.container_name
    image                  = var.image
    command                = var.command
    essential              = true
    readonlyRootFilesystem = true
    stopTimeout            = var.stop_timeout_seconds
    mountPoints            = [{ sourceVolume = "scratch", containerPath = "/tmp", readOnly = false }]
    # caches and staging files of the runner go to the writable /tmp
    environment = [{ name = "HOME", value = "/tmp" }, { name = "TMPDIR", value = "/tmp" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = var.job_name
      }
    }
  }])

  tags = var.tags
}

resource "aws_ecs_cluster" "this" {
  count = var.create_cluster ? 1 : 0

  name   = var.cluster_name
  region = local.region_override
  tags   = var.tags

  setting {
    name  = "containerInsights"
    value = var.enable_container_insights ? "enabled" : "disabled"
  }
}

# --- schedule (only when the job has one) --------------------------------------------------------

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    sid     = "SchedulerOfThisAccount"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.scheduled ? 1 : 0

  name               = "${var.name_prefix}-sched"
  description        = "EventBridge Scheduler role of Dativo job ${var.job_name}: runs this task definition only"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunThisTaskFamily"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${aws_ecs_task_definition.this.family}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  # propagate_tags tags the task at launch, which ECS authorizes as ecs:TagResource on RunTask
  statement {
    sid       = "TagTheTasksItStarts"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, local.task_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.scheduled ? 1 : 0

  name   = "${var.name_prefix}-run-task"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  # checkov:skip=CKV_AWS_297: the schedule holds no job data (a target and a role); the job's key protects its storage
  count = local.scheduled ? 1 : 0

  name                         = var.name_prefix
  description                  = "Runs Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = "ENABLED"
  region                       = local.region_override

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.cluster_arn
    role_arn = aws_iam_role.scheduler[0].arn

    retry_policy {
      maximum_retry_attempts = var.max_retries
    }

    ecs_parameters {
      task_definition_arn     = aws_ecs_task_definition.this.arn
      launch_type             = "FARGATE"
      task_count              = 1
      propagate_tags          = "TASK_DEFINITION"
      enable_ecs_managed_tags = true

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = local.security_group_ids
        assign_public_ip = var.assign_public_ip
      }
    }
  }
}
