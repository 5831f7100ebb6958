# The module's variables (validated there), declared here so that the exported tfvars file can
# set them with -var-file; plus the provider settings the exported variables do not carry.
# tests/test_tf_modules.py keeps this list equal to the module's.

variable "cloud_provider" {
  description = "Cloud of the job (the job file's infrastructure.provider; for a Kubernetes job the cloud behind the cluster): it picks the modules of the root, which checks it."
  type        = string
  nullable    = false
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
  description = "Memory in MiB the job asked for; each runtime's own spelling (memory_limit, memory_size, request_memory) is what its module uses (aws-ecs-job uses this one)."
  type        = number
  nullable    = false
}

variable "container_name" {
  description = "Name of the runner container."
  type        = string
}

variable "cpu_cores" {
  description = "vCPUs of the container (0.25-4 in steps of 0.25, paired with memory_size)."
  type        = number
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
  type        = string
}

variable "environment_name" {
  description = "Existing Container Apps managed environment the job runs in (in resource_group)."
  type        = string
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
  description = "Name of the job (from its file name)."
  type        = string
}

variable "max_retries" {
  description = "Retries of a failed replica (replica_retry_limit)."
  type        = number
}

variable "max_runtime_seconds" {
  description = "Longest a replica may run (replica_timeout_in_seconds)."
  type        = number
}

variable "memory_size" {
  description = "Memory of the container: twice cpu_cores in Gi (0.5Gi per 0.25 vCPU), e.g. 2Gi for 1 vCPU."
  type        = string
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
}

variable "region" {
  description = "Azure location of the identity; the job itself takes its environment's location."
  type        = string
  default     = ""
}

variable "required_tag_keys" {
  description = "Tag keys the stack's tag policy requires (exported by dativo-infra); the modules reject tags without them."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "resource_group" {
  description = "Resource group of the job, its identity and the managed environment."
  type        = string
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
  description = "5-field cron in UTC (minute hour day-of-month month day-of-week); empty means a manual trigger."
  type        = string
  default     = ""
}

variable "schedule_timezone" {
  description = "Time zone of the job's schedule; Container Apps jobs evaluate cron in UTC only, so azure-container-apps-job does not take it."
  type        = string
  default     = "UTC"
  nullable    = false
}

variable "service_account" {
  description = "Resource ID of an existing user-assigned identity; empty means this module creates one."
  type        = string
  default     = ""
}

variable "storage_account" {
  description = "Storage account of the job's container (the part before / in storage.bucket); empty means no storage."
  type        = string
  default     = ""
}

variable "storage_bucket" {
  description = "The job's storage as written (account/container on Azure); azure-container-apps-job takes it split as storage_account and storage_container."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_container" {
  description = "Blob container the job writes to; the role assignment is scoped to it."
  type        = string
  default     = ""
}

variable "storage_create_bucket" {
  description = "Create the blob container (private, protected from destroy) in the existing storage account."
  type        = bool
  default     = false
}

variable "storage_kms_key_id" {
  description = "The job's storage key; Azure storage is encrypted by its account's settings, so the Azure modules do not take it."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_prefix" {
  description = "Blob path prefix the job may read, write and list under (the role assignment's ABAC condition)."
  type        = string
  default     = ""
}

variable "storage_resource_group" {
  description = "Resource group of the storage account, when it is not resource_group."
  type        = string
  default     = ""
}

variable "subscription_id" {
  description = "Subscription of the resources; null means ARM_SUBSCRIPTION_ID."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags (Azure format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
}
