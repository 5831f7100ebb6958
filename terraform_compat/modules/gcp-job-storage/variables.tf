# The storage variables of the calling module (gcp-cloud-run-job or kubernetes-identity-gcp), under the
# same names as in the exported set; the caller validates them. member is the job's identity.

variable "member" {
  description = "IAM member of the job's identity (serviceAccount:EMAIL), granted the bucket and key access."
  type        = string
  nullable    = false
}

variable "region" {
  description = "Region of a created bucket (its location)."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_bucket" {
  description = "Bucket the job writes to; empty means no storage."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_create_bucket" {
  description = "Create the bucket (private, versioned, CMEK with the job's key; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "storage_kms_key_id" {
  description = "Cloud KMS key the identity may use, and a created bucket's default key; empty means none."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_prefix" {
  description = "Object prefix the identity may read and write under (it gets nothing outside it)."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Labels (GCP format) of a created bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}
