# The module's variables (validated there), declared here so that the exported tfvars file can
# set them with -var-file; plus the provider settings the exported variables do not carry.
# tests/test_tf_modules.py keeps this list equal to the module's.

variable "assign_public_ip" {
  description = "Give the task a public IP (true only when the job does not ask for private networking)."
  type        = bool
  default     = false
}

variable "cloud_provider" {
  description = "Cloud of the job (the job file's infrastructure.provider; for a Kubernetes job the cloud behind the cluster): it picks the modules of the root, which checks it."
  type        = string
  nullable    = false
}

variable "cluster_name" {
  description = "ECS cluster the task runs in; created by this module when create_cluster is true."
  type        = string
}

variable "command" {
  description = "Container command: the Dativo runner with this job's file."
  type        = list(string)
}

variable "compute_cpu" {
  description = "vCPUs the job asked for, as written in the job file; each runtime's own spelling (cpu_units, cpu_limit, cpu_cores, request_cpu) is what its module uses."
  type        = number
  nullable    = false
}

variable "compute_memory" {
  description = "Task memory in MiB; must be a valid Fargate pair with cpu_units."
  type        = number
}

variable "container_name" {
  description = "Name of the runner container in the task definition (Dagster's EcsRunLauncher needs it)."
  type        = string
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"
}

variable "cpu_units" {
  description = "Fargate task CPU units (1024 = 1 vCPU)."
  type        = number
}

variable "create_cluster" {
  description = "Create the ECS cluster named cluster_name (otherwise it must exist)."
  type        = bool
  default     = false
}

variable "enable_container_insights" {
  description = "Container Insights on a cluster this module creates (set through the job's terraform.variables)."
  type        = bool
  default     = true
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...); part of the log group name."
  type        = string
}

variable "ephemeral_storage_gib" {
  description = "The task's ephemeral storage in GiB (21-200); null keeps Fargate's included 20 GiB."
  type        = number
  default     = null
}

variable "finops_estimate" {
  description = "Cost-estimate inputs of `dativo-infra cost` (docs/cost.md), exported with the job so an estimate from tfvars equals one from the job file; no resource uses them."
  type = object({
    expected_log_gb_per_run     = optional(number)
    expected_runtime_seconds    = optional(number)
    expected_storage_gb_per_run = optional(number)
    monthly_budget              = optional(number)
  })
  default  = {}
  nullable = false
}

variable "image" {
  description = "Container image of the Dativo runner."
  type        = string
}

variable "job_name" {
  description = "Name of the job (from its file name); part of the log group name."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch log group of the job (/dativo/<tenant>/<environment>/<job>)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the job's logs."
  type        = number
  default     = 30
}

variable "max_retries" {
  description = "Retries after the first attempt: the schedule's retry policy and Dagster's (output dagster_retry_policy)."
  type        = number
}

variable "max_runtime_seconds" {
  description = "Longest a run may take; Fargate has no task timeout, so it is given to Dagster as the dagster/max_runtime run tag."
  type        = number
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
}

variable "region" {
  description = "AWS region of the resources; empty means the provider's region."
  type        = string
  default     = ""
}

variable "required_tag_keys" {
  description = "Tag keys the stack's tag policy requires (exported by dativo-infra); the modules reject tags without them."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "retry_delay_seconds" {
  description = "Delay between retries, for Dagster's op retry policy (output dagster_retry_policy)."
  type        = number
  default     = 0
}

variable "runtime_type" {
  description = "Runtime of the job (ecs, cloud_run, container_apps, kubernetes): it picks the module of the root."
  type        = string
  nullable    = false
}

variable "schedule_cron" {
  description = "5-field cron of the job's schedule as written (EventBridge uses schedule_expression); empty means no schedule."
  type        = string
  default     = ""
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression, cron(min hour day-of-month month day-of-week year); empty means no schedule."
  type        = string
  default     = ""
}

variable "schedule_timezone" {
  description = "IANA time zone the schedule is evaluated in."
  type        = string
  default     = "UTC"
}

variable "security_group_ids" {
  description = "Extra security groups for the task, besides the one this module creates."
  type        = list(string)
  default     = []
}

variable "service_account" {
  description = "Existing IAM role (ARN or name) for the task; empty means this module creates a least-privilege task role."
  type        = string
  default     = ""
}

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL when the task stops (Fargate allows up to 120)."
  type        = number
  default     = 120
}

variable "storage_bucket" {
  description = "S3 bucket the job writes to; empty means the job has no storage."
  type        = string
  default     = ""
}

variable "storage_create_bucket" {
  description = "Create the bucket (encrypted, versioned, private, protected from destroy)."
  type        = bool
  default     = false
}

variable "storage_kms_key_id" {
  description = "KMS key ARN for the bucket, the logs and the task's data; empty means AWS-managed encryption."
  type        = string
  default     = ""
}

variable "storage_prefix" {
  description = "Key prefix the job may read and write under (the task role gets nothing outside it)."
  type        = string
  default     = ""
}

variable "subnet_ids" {
  description = "Subnets the task runs in (awsvpc)."
  type        = list(string)
}

variable "tags" {
  description = "Tags (AWS format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
}

variable "tenant_id" {
  description = "Tenant of the job; part of the log group name."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the task's security group."
  type        = string
}
