# The variables exported by `dativo-infra terraform export` for an ECS job (dativo_infra/variables.py:
# COMMON_VARIABLES + RUNTIME_VARIABLES["ecs"]) that this module uses, in alphabetical order, plus optional
# settings of this module. The exported ones no module uses are declared by the root configuration
# (terraform_compat/root_variables.tf); tests/test_tf_contract.py keeps the three sides equal.

variable "assign_public_ip" {
  description = "Give the task a public IP (true only when the job does not ask for private networking)."
  type        = bool
  default     = false
  nullable    = false
}

variable "cluster_name" {
  description = "ECS cluster the task runs in; created by this module when create_cluster is true."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "command" {
  description = "Container command: the Dativo runner with this job's file."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.command) > 0
    error_message = "command must name at least the program to run."
  }
}

variable "compute_memory" {
  description = "Task memory in MiB; must be a valid Fargate pair with cpu_units."
  type        = number
  nullable    = false

  validation {
    # docs/cloud-limits.md §2, Fargate (Linux): CPU units -> memory MiB
    condition = (
      var.cpu_units == 256 ? contains([512, 1024, 2048], var.compute_memory) :
      var.cpu_units == 512 ? var.compute_memory >= 1024 && var.compute_memory <= 4096 && var.compute_memory % 1024 == 0 :
      var.cpu_units == 1024 ? var.compute_memory >= 2048 && var.compute_memory <= 8192 && var.compute_memory % 1024 == 0 :
      var.cpu_units == 2048 ? var.compute_memory >= 4096 && var.compute_memory <= 16384 && var.compute_memory % 1024 == 0 :
      var.cpu_units == 4096 ? var.compute_memory >= 8192 && var.compute_memory <= 30720 && var.compute_memory % 1024 == 0 :
      var.cpu_units == 8192 ? var.compute_memory >= 16384 && var.compute_memory <= 61440 && var.compute_memory % 4096 == 0 :
      var.cpu_units == 16384 ? var.compute_memory >= 32768 && var.compute_memory <= 122880 && var.compute_memory % 8192 == 0 :
      false
    )
    error_message = "compute_memory is not a valid Fargate memory size for cpu_units: 256 -> 512/1024/2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (steps of 1024); 8192 -> 16384-61440 (steps of 4096); 16384 -> 32768-122880 (steps of 8192)."
  }
}

variable "container_name" {
  description = "Name of the runner container in the task definition (Dagster's EcsRunLauncher needs it)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.container_name))
    error_message = "container_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64, or ARM64 (Fargate on Graviton)."
  type        = string
  default     = "X86_64"
  nullable    = false

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "cpu_units" {
  description = "Fargate task CPU units (1024 = 1 vCPU)."
  type        = number
  nullable    = false

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu_units)
    error_message = "cpu_units must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "create_cluster" {
  description = "Create the ECS cluster named cluster_name (otherwise it must exist)."
  type        = bool
  default     = false
  nullable    = false
}

variable "enable_container_insights" {
  description = "Container Insights on a cluster this module creates (set through the job's terraform.variables)."
  type        = bool
  default     = true
  nullable    = false
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...); part of the log group name."
  type        = string
  nullable    = false
}

variable "ephemeral_storage_gib" {
  description = "The task's ephemeral storage in GiB (21-200); null keeps Fargate's included 20 GiB."
  type        = number
  default     = null

  validation {
    condition     = var.ephemeral_storage_gib == null ? true : (var.ephemeral_storage_gib >= 21 && var.ephemeral_storage_gib <= 200 && floor(var.ephemeral_storage_gib) == var.ephemeral_storage_gib)
    error_message = "ephemeral_storage_gib must be a whole number from 21 to 200, or null."
  }
}

variable "image" {
  description = "Container image of the Dativo runner."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.image) > 0
    error_message = "image must not be empty."
  }
}

variable "job_name" {
  description = "Name of the job (from its file name); part of the log group name."
  type        = string
  nullable    = false
}

variable "log_group_name" {
  description = "CloudWatch log group of the job (/dativo/<tenant>/<environment>/<job>)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1-512 characters: letters, digits, _ . / # -."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the job's logs."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "max_retries" {
  description = "Retries after the first attempt: the schedule's retry policy and Dagster's (output dagster_retry_policy)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_retries >= 0 && var.max_retries <= 185 && floor(var.max_retries) == var.max_retries
    error_message = "max_retries must be a whole number from 0 to 185 (EventBridge Scheduler's retry limit)."
  }
}

variable "max_runtime_seconds" {
  description = "Longest a run may take; Fargate has no task timeout, so it is given to Dagster as the dagster/max_runtime run tag."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_runtime_seconds > 0 && floor(var.max_runtime_seconds) == var.max_runtime_seconds
    error_message = "max_runtime_seconds must be a whole number > 0."
  }
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the resources; empty means the provider's region."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.region == "" || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region such as us-east-1, or empty."
  }
}

variable "required_tag_keys" {
  description = "Keys (AWS format) that tags must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "retry_delay_seconds" {
  description = "Delay between retries, for Dagster's op retry policy (output dagster_retry_policy)."
  type        = number
  default     = 0
  nullable    = false
}

variable "schedule_cron" {
  description = "5-field cron of the job's schedule as written (EventBridge uses schedule_expression); empty means no schedule."
  type        = string
  default     = ""
  nullable    = false
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression, cron(min hour day-of-month month day-of-week year); empty means no schedule."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.schedule_expression == "" || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(...) with 6 fields, or empty."
  }

  validation {
    condition     = (var.schedule_expression == "") == (var.schedule_cron == "")
    error_message = "schedule_expression and schedule_cron are set together (the exporter derives one from the other)."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone the schedule is evaluated in."
  type        = string
  default     = "UTC"
  nullable    = false
}

variable "security_group_ids" {
  description = "Extra security groups for the task, besides the one this module creates."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.security_group_ids) < 5
    error_message = "A Fargate task takes at most 5 security groups, one of which this module creates."
  }
}

variable "service_account" {
  description = "Existing IAM role (ARN or name) for the task; empty means this module creates a least-privilege task role."
  type        = string
  default     = ""
  nullable    = false
}

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL when the task stops (Fargate allows up to 120)."
  type        = number
  default     = 120
  nullable    = false

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 on Fargate."
  }
}

variable "storage_bucket" {
  description = "S3 bucket the job writes to; empty means the job has no storage."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_bucket == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.storage_bucket))
    error_message = "storage_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "storage_create_bucket" {
  description = "Create the bucket (encrypted, versioned, private, protected from destroy)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }
}

variable "storage_kms_key_id" {
  description = "KMS key ARN for the bucket, the logs and the task's data; empty means AWS-managed encryption."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_kms_key_id == "" || startswith(var.storage_kms_key_id, "arn:")
    error_message = "storage_kms_key_id must be a KMS key ARN (IAM policies and log groups need the ARN), or empty."
  }
}

variable "storage_prefix" {
  description = "Key prefix the job may read and write under (the task role gets nothing outside it)."
  type        = string
  default     = ""
  nullable    = false
}

variable "subnet_ids" {
  description = "Subnets the task runs in (awsvpc)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids must list at least one subnet: Fargate tasks are placed in subnets."
  }
}

variable "tags" {
  description = "Tags (AWS format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 50
    error_message = "AWS allows at most 50 user tags per resource."
  }

  validation {
    condition     = alltrue([for k in keys(var.tags) : !startswith(lower(k), "aws:")])
    error_message = "Tag keys must not start with the reserved prefix aws: (in any case)."
  }

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1-128 characters and values at most 256."
  }

  validation {
    condition     = alltrue([for k, v in var.tags : can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "${k}${v}"))])
    error_message = "Tags may hold only letters, digits, spaces and + - = . _ : / @ (the set every AWS service accepts)."
  }

  validation {
    condition     = length(setsubtract(var.required_tag_keys, keys(var.tags))) == 0
    error_message = "tags lacks keys the tag policy requires: ${join(", ", sort(setsubtract(var.required_tag_keys, keys(var.tags))))}."
  }
}

variable "tenant_id" {
  description = "Tenant of the job; part of the log group name."
  type        = string
  nullable    = false
}

variable "vpc_id" {
  description = "VPC of the task's security group."
  type        = string
  nullable    = false

  validation {
    condition     = var.vpc_id != ""
    error_message = "vpc_id must name the VPC of subnet_ids (the job's security group is created in it)."
  }
}
