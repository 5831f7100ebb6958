# Exported variables that no module of the family uses, declared by the root configuration that reads
# the exported file (`dativo-infra terraform scaffold` copies the ones its job exports into the root's
# variables.tf): the exporter writes one flat set per runtime, shared with the Pulumi program and read
# back by `dativo-infra cost`, so a job's file carries them; a module declares only what it uses.
# tests/test_tf_contract.py keeps this list equal to the exported names no module declares.

variable "cloud_provider" {
  description = "Cloud of the job (the job file's infrastructure.provider; for a Kubernetes job the cloud behind the cluster): it picks the modules of the root, which checks it."
  type        = string
  nullable    = false
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

variable "resource_group" {
  description = "Azure resource group (exported for every Kubernetes job: the resource group of an AKS cluster); jobs on EKS and GKE have none."
  type        = string
  default     = ""
  nullable    = false
}

variable "runtime_type" {
  description = "Runtime of the job (ecs, cloud_run, container_apps, kubernetes): it picks the module of the root."
  type        = string
  nullable    = false
}

variable "schedule_timezone" {
  description = "Time zone of the job's schedule; Container Apps jobs evaluate cron in UTC only, so azure-container-apps-job does not take it."
  type        = string
  default     = "UTC"
  nullable    = false
}

variable "storage_bucket" {
  description = "The job's storage as written (account/container on Azure); azure-container-apps-job takes it split as storage_account and storage_container."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_kms_key_id" {
  description = "The job's storage key; Azure storage is encrypted by its account's settings, so the Azure modules do not take it."
  type        = string
  default     = ""
  nullable    = false
}
