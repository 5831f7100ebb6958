# Variables exported by `dativo-infra terraform export` for a Kubernetes job on AKS that this module
# uses (the user-assigned identity of the job's Kubernetes service account, its storage access, a
# created blob container), in alphabetical order, plus storage_resource_group. The Kubernetes objects
# take the others (kubernetes-job); tests/test_tf_contract.py checks that both modules together
# declare the exported set.

variable "cluster_name" {
  description = "AKS cluster the job runs on, in resource_group: the identity's federated credential trusts its OIDC issuer."
  type        = string
  nullable    = false

  validation {
    condition     = var.cluster_name != ""
    error_message = "cluster_name must name the AKS cluster: its OIDC issuer is trusted by the job's identity."
  }
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
  type        = string
  nullable    = false
}

variable "job_name" {
  description = "Name of the job (from its file name)."
  type        = string
  nullable    = false
}

variable "name_prefix" {
  description = "Deterministic base name (tenant-environment-job, at most 26 characters): the identity is NAME_PREFIX-id, its federated credential NAME_PREFIX-k8s."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "namespace" {
  description = "Namespace of the job's Kubernetes service account, the one subject the federated credential trusts."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label: up to 63 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Azure location of the identity; empty means the AKS cluster's location."
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
  description = "Resource group of the AKS cluster and of the job's identity."
  type        = string
  nullable    = false

  validation {
    condition     = var.resource_group != ""
    error_message = "resource_group must be set: the AKS cluster and the job's identity live in it."
  }
}

variable "service_account" {
  description = "Name of the job's Kubernetes service account; empty means name_prefix (as in kubernetes-job)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.service_account == "" || can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "service_account must be a Kubernetes object name (lowercase DNS subdomain), or empty."
  }
}

variable "storage_bucket" {
  description = "Blob container the job writes to, as account/container; empty means no storage."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_bucket == "" || can(regex("^[a-z0-9]{3,24}/[a-z0-9](-?[a-z0-9]){2,62}$", var.storage_bucket))
    error_message = "storage_bucket must be account/container."
  }
}

variable "storage_create_bucket" {
  description = "Create the blob container (private, protected from destroy) in the existing storage account."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }
}

variable "storage_prefix" {
  description = "Blob path prefix the identity may read, write and list under (the role assignment's ABAC condition)."
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
    condition = (
      alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 512 && length(v) <= 256 && !can(regex("[<>%&\\\\?/]", k))]) &&
      length(distinct([for k in keys(var.tags) : lower(k)])) == length(var.tags)
    )
    error_message = "Azure tags: names 1-512 characters without < > % & \\ ? / and unique ignoring case, values at most 256."
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
