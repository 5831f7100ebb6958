# The variables exported by `dativo-infra terraform export` for a Cloud Run job (dativo_infra/variables.py:
# COMMON_VARIABLES + RUNTIME_VARIABLES["cloud_run"]) that this module uses, in alphabetical order, plus optional
# settings of this module. The exported ones no module uses are declared by the root configuration
# (terraform_compat/root_variables.tf); tests/test_tf_contract.py keeps the three sides equal.

variable "command" {
  description = "Container command (entrypoint): the Dativo runner with this job's file."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.command) > 0
    error_message = "command must name at least the program to run."
  }
}

variable "container_name" {
  description = "Name of the runner container."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.container_name))
    error_message = "container_name must be a DNS label: up to 63 lowercase letters, digits and hyphens."
  }
}

variable "cpu_limit" {
  description = "CPU limit of the container (Cloud Run jobs: 1, 2, 4, 6 or 8)."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.cpu_limit)
    error_message = "cpu_limit must be 1, 2, 4, 6 or 8 (the CPU values every Cloud Run job accepts)."
  }
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
  type        = string
  nullable    = false
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
  description = "Name of the job (from its file name)."
  type        = string
  nullable    = false
}

variable "max_retries" {
  description = "Retries per task after the first attempt (Cloud Run: 0-10)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_retries >= 0 && var.max_retries <= 10 && floor(var.max_retries) == var.max_retries
    error_message = "max_retries must be a whole number from 0 to 10 on Cloud Run."
  }
}

variable "max_runtime_seconds" {
  description = "Task timeout in seconds (Cloud Run: up to 168 h)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_runtime_seconds > 0 && var.max_runtime_seconds <= 604800 && floor(var.max_runtime_seconds) == var.max_runtime_seconds
    error_message = "max_runtime_seconds must be a whole number from 1 to 604800 (168 h, Cloud Run's task timeout limit)."
  }
}

variable "memory_limit" {
  description = "Memory limit of the container (512Mi-32Gi; more memory needs more CPU)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.memory_limit))
    error_message = "memory_limit must be a whole number with M, G, Mi or Gi, e.g. 4096Mi or 4Gi."
  }

  validation {
    # docs/cloud-limits.md §2: 512 MiB - 32 GiB; > 4 GiB needs 2 CPU, > 8 GiB 4, > 16 GiB 6, > 24 GiB 8
    condition = try(alltrue([
      for mib in [
        endswith(var.memory_limit, "Gi") ? tonumber(trimsuffix(var.memory_limit, "Gi")) * 1024 :
        endswith(var.memory_limit, "Mi") ? tonumber(trimsuffix(var.memory_limit, "Mi")) :
        endswith(var.memory_limit, "G") ? tonumber(trimsuffix(var.memory_limit, "G")) * 1000000000 / 1048576 :
        tonumber(trimsuffix(var.memory_limit, "M")) * 1000000 / 1048576
      ] :
      mib >= 512 && mib <= 32768 && tonumber(var.cpu_limit) >= (mib > 24576 ? 8 : mib > 16384 ? 6 : mib > 8192 ? 4 : mib > 4096 ? 2 : 1)
    ]), false)
    error_message = "memory_limit must be 512Mi-32Gi, and its cpu_limit at least 2 above 4Gi, 4 above 8Gi, 6 above 16Gi, 8 above 24Gi."
  }
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter (service account IDs add 4 characters)."
  }
}

variable "network" {
  description = "VPC network for Direct VPC egress (name or self-link); empty means no VPC access."
  type        = string
  default     = ""
  nullable    = false
}

variable "region" {
  description = "Region of the Cloud Run job, the scheduler job and a created bucket."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1 (Cloud Run jobs are regional)."
  }
}

variable "required_tag_keys" {
  description = "Keys (GCP label format) that tags must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
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
  description = "5-field cron (minute hour day-of-month month day-of-week); empty means no schedule."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.schedule_cron == "" || can(regex("^\\S+( +\\S+){4}$", trimspace(var.schedule_cron)))
    error_message = "schedule_cron must have 5 fields (minute hour day-of-month month day-of-week), or be empty."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone of the Cloud Scheduler job."
  type        = string
  default     = "UTC"
  nullable    = false
}

variable "service_account" {
  description = "Existing service account email the job runs as; empty means this module creates one."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.service_account == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.iam\\.gserviceaccount\\.com$", var.service_account))
    error_message = "service_account must be a service account email (NAME@PROJECT.iam.gserviceaccount.com), or empty."
  }
}

variable "storage_bucket" {
  description = "GCS bucket the job writes to; empty means the job has no storage."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_bucket == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.storage_bucket))
    error_message = "storage_bucket must be a GCS bucket name (3-63 lowercase letters, digits, dots, hyphens, underscores)."
  }
}

variable "storage_create_bucket" {
  description = "Create the bucket (uniform access, public access prevention, versioning, CMEK when given; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }
}

variable "storage_kms_key_id" {
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K); empty means Google-managed encryption."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_kms_key_id == "" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.storage_kms_key_id))
    error_message = "storage_kms_key_id must be projects/P/locations/L/keyRings/R/cryptoKeys/K, or empty."
  }
}

variable "storage_prefix" {
  description = "Object prefix the job may read and write under (the IAM binding's condition)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = !can(regex("['\"\\\\]", var.storage_prefix))
    error_message = "storage_prefix must not contain quotes or backslashes (it is quoted in the IAM condition)."
  }
}

variable "subnetwork" {
  description = "Subnetwork for Direct VPC egress; empty lets Cloud Run pick the network's subnetwork in region."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Labels (GCP format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 64
    error_message = "GCP allows at most 64 labels per resource."
  }

  validation {
    condition     = alltrue([for k in keys(var.tags) : can(regex("^[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}$", k))])
    error_message = "Label keys must be 1-63 lowercase letters, digits, underscores or hyphens, starting with a lowercase letter."
  }

  validation {
    condition     = alltrue([for v in values(var.tags) : can(regex("^[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}$", v))])
    error_message = "Label values must be at most 63 lowercase letters, digits, underscores or hyphens."
  }

  validation {
    condition     = length(setsubtract(var.required_tag_keys, keys(var.tags))) == 0
    error_message = "tags lacks keys the tag policy requires: ${join(", ", sort(setsubtract(var.required_tag_keys, keys(var.tags))))}."
  }
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
  nullable    = false
}

variable "vpc_egress" {
  description = "Direct VPC egress: PRIVATE_RANGES_ONLY (private networking) or ALL_TRAFFIC."
  type        = string
  default     = "PRIVATE_RANGES_ONLY"
  nullable    = false

  validation {
    condition     = contains(["ALL_TRAFFIC", "PRIVATE_RANGES_ONLY"], var.vpc_egress)
    error_message = "vpc_egress must be ALL_TRAFFIC or PRIVATE_RANGES_ONLY."
  }
}
