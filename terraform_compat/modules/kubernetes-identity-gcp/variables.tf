# Variables exported by `dativo-infra terraform export` for a Kubernetes job on GKE that this module
# uses (the Google service account of the job's Kubernetes service account, its storage access, a
# created bucket), in alphabetical order. The Kubernetes objects take the others (kubernetes-job);
# tests/test_tf_contract.py checks that both modules together declare the exported set.

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
  description = "Deterministic base name (tenant-environment-job, at most 26 characters): the Google service account is NAME_PREFIX-k8s."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "namespace" {
  description = "Namespace of the job's Kubernetes service account, the one member that may act as the Google service account."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label: up to 63 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Location of a created bucket (required then); the service account and the grants are global."
  type        = string
  default     = ""
  nullable    = false
}

variable "required_tag_keys" {
  description = "Keys (GCP label format) that tags must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
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
  description = "GCS bucket the job writes to; empty means no storage."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_create_bucket" {
  description = "Create the bucket with gcp-cloud-run-job's settings (uniform access, public access prevention, versioning, CMEK when given; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }

  validation {
    condition     = !(var.storage_create_bucket && var.region == "")
    error_message = "A GCS bucket created here needs a location: set region."
  }
}

variable "storage_kms_key_id" {
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) the service account may use, and a created bucket's default key."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.storage_kms_key_id == "" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.storage_kms_key_id))
    error_message = "storage_kms_key_id must be projects/P/locations/L/keyRings/R/cryptoKeys/K, or empty."
  }
}

variable "storage_prefix" {
  description = "Object prefix the service account may read and write under (the IAM binding's condition)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = !can(regex("['\"\\\\]", var.storage_prefix))
    error_message = "storage_prefix must not contain quotes or backslashes (it is quoted in the IAM condition)."
  }
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
    condition = alltrue([
      for k, v in var.tags : can(regex("^[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}$", k)) && can(regex("^[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}$", v))
    ])
    error_message = "GCP labels: keys 1-63 lowercase letters, digits, _ or -, starting with a letter; values at most 63 of the same."
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
