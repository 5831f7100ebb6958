# The variables exported by `dativo-infra terraform export` for a Container Apps job (dativo_infra/variables.py:
# COMMON_VARIABLES + RUNTIME_VARIABLES["container_apps"]) that this module uses, in alphabetical order, plus optional
# settings of this module. The exported ones no module uses are declared by the root configuration
# (terraform_compat/root_variables.tf); tests/test_tf_contract.py keeps the three sides equal.

variable "command" {
  description = "Container command: the Dativo runner with this job's file."
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
    error_message = "container_name must be up to 63 lowercase letters, digits and hyphens."
  }
}

variable "cpu_cores" {
  description = "vCPUs of the container (0.25-4 in steps of 0.25, paired with memory_size)."
  type        = number
  nullable    = false

  validation {
    condition     = var.cpu_cores >= 0.25 && var.cpu_cores <= 4 && floor(var.cpu_cores * 4) == var.cpu_cores * 4
    error_message = "cpu_cores must be 0.25-4 in steps of 0.25 (Container Apps allows at most 4 cores per replica)."
  }
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
  type        = string
  nullable    = false
}

variable "environment_name" {
  description = "Existing Container Apps managed environment the job runs in (in resource_group)."
  type        = string
  nullable    = false

  validation {
    condition     = var.environment_name != ""
    error_message = "environment_name must name the Container Apps managed environment."
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
  description = "Name of the job (from its file name)."
  type        = string
  nullable    = false
}

variable "max_retries" {
  description = "Retries of a failed replica (replica_retry_limit)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_retries >= 0 && floor(var.max_retries) == var.max_retries
    error_message = "max_retries must be a whole number >= 0."
  }
}

variable "max_runtime_seconds" {
  description = "Longest a replica may run (replica_timeout_in_seconds)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_runtime_seconds > 0 && floor(var.max_runtime_seconds) == var.max_runtime_seconds
    error_message = "max_runtime_seconds must be a whole number > 0."
  }
}

variable "memory_size" {
  description = "Memory of the container: twice cpu_cores in Gi (0.5Gi per 0.25 vCPU), e.g. 2Gi for 1 vCPU."
  type        = string
  nullable    = false

  validation {
    condition = try(
      (endswith(var.memory_size, "Gi") ? tonumber(trimsuffix(var.memory_size, "Gi")) : tonumber(trimsuffix(var.memory_size, "Mi")) / 1024) == var.cpu_cores * 2,
      false
    )
    error_message = "memory_size must pair with cpu_cores: 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, 1/2Gi ... 4/8Gi (written in Gi or Mi)."
  }
}

variable "name_prefix" {
  description = "Deterministic base name of every resource (tenant-environment-job, at most 26 characters)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter (Container Apps job names allow 32)."
  }
}

variable "region" {
  description = "Azure location of the identity; the job itself takes its environment's location."
  type        = string
  default     = ""
  nullable    = false
}

variable "required_tag_keys" {
  description = "Keys (Azure format) that tags must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "resource_group" {
  description = "Resource group of the job, its identity and the managed environment."
  type        = string
  nullable    = false

  validation {
    condition     = var.resource_group != ""
    error_message = "resource_group must name a resource group: Azure resources live in one."
  }
}

variable "retry_delay_seconds" {
  description = "Delay between retries, for Dagster's op retry policy (output dagster_retry_policy)."
  type        = number
  default     = 0
  nullable    = false
}

variable "schedule_cron" {
  description = "5-field cron in UTC (minute hour day-of-month month day-of-week); empty means a manual trigger."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.schedule_cron == "" || can(regex("^\\S+( +\\S+){4}$", trimspace(var.schedule_cron)))
    error_message = "schedule_cron must have 5 fields (minute hour day-of-month month day-of-week), or be empty."
  }
}

variable "service_account" {
  description = "Resource ID of an existing user-assigned identity; empty means this module creates one."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.service_account == "" || can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[^/]+$", var.service_account))
    error_message = "service_account must be a user-assigned identity resource ID (/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME), or empty."
  }
}

variable "storage_account" {
  description = "Storage account of the job's container (the part before / in storage.bucket); empty means no storage."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_account == "" || can(regex("^[a-z0-9]{3,24}$", var.storage_account))
    error_message = "storage_account must be 3-24 lowercase letters and digits, or empty."
  }
}

variable "storage_container" {
  description = "Blob container the job writes to; the role assignment is scoped to it."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_container == "" || can(regex("^[a-z0-9](-?[a-z0-9]){2,62}$", var.storage_container))
    error_message = "storage_container must be 3-63 lowercase letters, digits and single hyphens, or empty."
  }

  validation {
    condition     = (var.storage_account == "") == (var.storage_container == "")
    error_message = "storage_account and storage_container go together (storage.bucket is account/container on Azure)."
  }
}

variable "storage_create_bucket" {
  description = "Create the blob container (private, protected from destroy) in the existing storage account."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_container != ""
    error_message = "storage_create_bucket needs storage_account/storage_container."
  }
}

variable "storage_prefix" {
  description = "Blob path prefix the job may read, write and list under (the role assignment's ABAC condition)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = !can(regex("['\"\\\\]", var.storage_prefix))
    error_message = "storage_prefix must not contain quotes or backslashes (it is quoted in the ABAC condition)."
  }
}

variable "storage_resource_group" {
  description = "Resource group of the storage account, when it is not resource_group."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Tags (Azure format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 50
    error_message = "Azure allows at most 50 tags per resource."
  }

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 512 && length(v) <= 256])
    error_message = "Tag names must be 1-512 characters and values at most 256."
  }

  validation {
    condition     = alltrue([for k in keys(var.tags) : !can(regex("[<>%&\\\\?/]", k))])
    error_message = "Tag names cannot contain < > % & \\ ? /."
  }

  validation {
    condition     = length(distinct([for k in keys(var.tags) : lower(k)])) == length(var.tags)
    error_message = "Tag names are case-insensitive on Azure: two names differ only in case."
  }

  validation {
    # Azure tag names are case-insensitive
    condition     = length([for k in var.required_tag_keys : k if !contains([for t in keys(var.tags) : lower(t)], lower(k))]) == 0
    error_message = "tags lacks keys the tag policy requires: ${join(", ", [for k in var.required_tag_keys : k if !contains([for t in keys(var.tags) : lower(t)], lower(k))])}."
  }
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
  nullable    = false
}
