# The storage variables of the calling module (azure-container-apps-job or kubernetes-identity-azure),
# under the same names as in the exported set; the caller validates them. principal_id is the job's identity.

variable "environment" {
  description = "Environment of the job (in the role assignment's description)."
  type        = string
  nullable    = false
}

variable "job_name" {
  description = "Name of the job (in the role assignment's description)."
  type        = string
  nullable    = false
}

variable "name_prefix" {
  description = "Deterministic base name of the job: part of the role assignment's GUID."
  type        = string
  nullable    = false
}

variable "principal_id" {
  description = "Principal (object) ID of the job's identity, granted Storage Blob Data Contributor on the container."
  type        = string
  nullable    = false
}

variable "storage_account" {
  description = "Storage account of the job's container; empty means no storage."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_container" {
  description = "Blob container the job writes to."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_create_bucket" {
  description = "Create the blob container (private; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "storage_prefix" {
  description = "Blob path prefix the identity may read and write under (it gets nothing outside it)."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_resource_group" {
  description = "Resource group of the storage account."
  type        = string
  nullable    = false
}

variable "tenant_id" {
  description = "Tenant of the job (in the role assignment's description)."
  type        = string
  nullable    = false
}
