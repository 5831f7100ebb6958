# Variables exported by `dativo-infra terraform export` for a Kubernetes job on EKS that this module
# uses (the IAM role of the job's service account, its storage access, a created bucket), in
# alphabetical order. The Kubernetes objects take the others (kubernetes-job); tests/test_tf_contract.py
# checks that both modules together declare the exported set.

variable "cluster_name" {
  description = "EKS cluster the job runs on: the role trusts its OIDC issuer."
  type        = string
  nullable    = false

  validation {
    condition     = var.cluster_name != ""
    error_message = "cluster_name must name the EKS cluster: its OIDC issuer is trusted by the job's role."
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
  description = "Deterministic base name (tenant-environment-job, at most 26 characters): the role is NAME_PREFIX-k8s, its policy NAME_PREFIX-storage."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "namespace" {
  description = "Namespace of the job's Kubernetes service account, the one subject the role trusts."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label: up to 63 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of the EKS cluster and of a created bucket; empty means the provider's region."
  type        = string
  default     = ""
  nullable    = false
}

variable "required_tag_keys" {
  description = "Keys (AWS format) that tags must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
  type        = list(string)
  default     = []
  nullable    = false
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
  description = "S3 bucket the job writes to; empty means no storage."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_create_bucket" {
  description = "Create the bucket with aws-ecs-job's settings (encrypted, versioned, private; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }
}

variable "storage_kms_key_id" {
  description = "KMS key ARN the job's role may use (and a created bucket's default key)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_kms_key_id == "" || startswith(var.storage_kms_key_id, "arn:")
    error_message = "storage_kms_key_id must be a KMS key ARN."
  }
}

variable "storage_prefix" {
  description = "Key prefix the job's role may read and write under (it gets nothing outside it)."
  type        = string
  default     = ""
  nullable    = false
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
    condition = alltrue([
      for k, v in var.tags : !startswith(lower(k), "aws:") && length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "${k}${v}"))
    ])
    error_message = "AWS tags: keys 1-128 characters not starting with aws:, values at most 256, only letters, digits, spaces and + - = . _ : / @."
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
