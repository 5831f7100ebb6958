# The module's variables (validated there), declared here so that the exported tfvars file can
# set them with -var-file; plus the provider settings the exported variables do not carry.
# tests/test_tf_modules.py keeps this list equal to the module's.

variable "cloud_provider" {
  description = "Cloud of the job (the job file's infrastructure.provider; for a Kubernetes job the cloud behind the cluster): it picks the modules of the root, which checks it."
  type        = string
  nullable    = false
}

variable "command" {
  description = "Container command (entrypoint): the Dativo runner with this job's file."
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

variable "cpu_limit" {
  description = "CPU limit of the container (Cloud Run jobs: 1, 2, 4, 6 or 8)."
  type        = string
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
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
  description = "Retries per task after the first attempt (Cloud Run: 0-10)."
  type        = number
}

variable "max_runtime_seconds" {
  description = "Task timeout in seconds (Cloud Run: up to 168 h)."
  type        = number
}

variable "memory_limit" {
  description = "Memory limit of the container (512Mi-32Gi; more memory needs more CPU)."
  type        = string
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
}

variable "network" {
  description = "VPC network for Direct VPC egress (name or self-link); empty means no VPC access."
  type        = string
  default     = ""
}

variable "project" {
  description = "Project of the resources; null means GOOGLE_PROJECT or the gcloud configuration (the exported variables name none)."
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the Cloud Run job, the scheduler job and a created bucket."
  type        = string
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
  description = "5-field cron (minute hour day-of-month month day-of-week); empty means no schedule."
  type        = string
  default     = ""
}

variable "schedule_timezone" {
  description = "IANA time zone of the Cloud Scheduler job."
  type        = string
  default     = "UTC"
}

variable "service_account" {
  description = "Existing service account email the job runs as; empty means this module creates one."
  type        = string
  default     = ""
}

variable "storage_bucket" {
  description = "GCS bucket the job writes to; empty means the job has no storage."
  type        = string
  default     = ""
}

variable "storage_create_bucket" {
  description = "Create the bucket (uniform access, public access prevention, versioning, CMEK when given; protected from destroy)."
  type        = bool
  default     = false
}

variable "storage_kms_key_id" {
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K); empty means Google-managed encryption."
  type        = string
  default     = ""
}

variable "storage_prefix" {
  description = "Object prefix the job may read and write under (the IAM binding's condition)."
  type        = string
  default     = ""
}

variable "subnetwork" {
  description = "Subnetwork for Direct VPC egress; empty lets Cloud Run pick the network's subnetwork in region."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Labels (GCP format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
}

variable "vpc_egress" {
  description = "Direct VPC egress: PRIVATE_RANGES_ONLY (private networking) or ALL_TRAFFIC."
  type        = string
  default     = "PRIVATE_RANGES_ONLY"
}
