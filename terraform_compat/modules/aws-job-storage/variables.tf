# The storage variables of the calling module (aws-ecs-job or kubernetes-identity-aws), under the same
# names as in the exported set; the caller validates them. role_name is the job's role.

variable "name_prefix" {
  description = "Deterministic base name of the job: the role's policy is NAME_PREFIX-storage."
  type        = string
  nullable    = false
}

variable "region" {
  description = "Region of a created bucket; empty means the provider's region."
  type        = string
  default     = ""
  nullable    = false
}

variable "role_name" {
  description = "IAM role that gets the storage policy; null: none (the job runs as a role it was given). Known at plan time: a role name set in configuration."
  type        = string
  default     = null
}

variable "storage_bucket" {
  description = "S3 bucket the job writes to; empty means no storage."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_create_bucket" {
  description = "Create the bucket (encrypted, versioned, private; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "storage_kms_key_id" {
  description = "KMS key ARN the role may use, and a created bucket's default key; empty means none."
  type        = string
  default     = ""
  nullable    = false
}

variable "storage_prefix" {
  description = "Key prefix the role may read and write under (it gets nothing outside it)."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Tags (AWS format) of a created bucket and its settings."
  type        = map(string)
  default     = {}
  nullable    = false
}
