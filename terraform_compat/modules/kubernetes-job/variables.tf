# Variables exported by `dativo-infra terraform export` for a Kubernetes job (dativo_infra/variables.py:
# COMMON_VARIABLES + RUNTIME_VARIABLES["kubernetes"]), in alphabetical order, plus optional settings
# of this module. tests/test_tf_contract.py keeps both sides equal.

variable "cloud_provider" {
  description = "Cloud behind the cluster (aws, gcp or azure; the job file's infrastructure.provider): its workload identity and storage."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["aws", "gcp", "azure"], var.cloud_provider)
    error_message = "cloud_provider must be aws, gcp or azure."
  }
}

variable "cluster_name" {
  description = "Cluster the job runs on: EKS (aws) or AKS (azure, in resource_group) for the workload identity issuer; informational on GKE."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.cloud_provider == "gcp" || var.cluster_name != ""
    error_message = "cluster_name must name the EKS or AKS cluster: its OIDC issuer is trusted by the job's identity."
  }
}

variable "command" {
  description = "Container command: the Dativo runner with this job's file."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.command) > 0
    error_message = "command must name at least the program to run."
  }
}

variable "compute_cpu" {
  description = "vCPUs the job asked for (informational; the pod uses request_cpu/limit_cpu)."
  type        = number
  nullable    = false
}

variable "compute_memory" {
  description = "Memory in MiB the job asked for (informational; the pod uses request_memory/limit_memory)."
  type        = number
  nullable    = false
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

variable "create_namespace" {
  description = "Create the namespace (e.g. one namespace per tenant); otherwise it must exist."
  type        = bool
  default     = false
  nullable    = false
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

variable "labels" {
  description = "Labels (Kubernetes format) on every Kubernetes object and on the pod template."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for k in keys(var.labels) :
      can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", k)) &&
      length(split("/", k)[0]) <= (length(split("/", k)) == 2 ? 253 : 63)
    ])
    error_message = "Label keys must be [prefix/]name: prefix a DNS subdomain (at most 253), name at most 63 letters, digits, - _ . starting and ending alphanumeric."
  }

  validation {
    condition     = alltrue([for k in keys(var.labels) : !contains(["kubernetes.io", "k8s.io"], length(split("/", k)) == 2 ? split("/", k)[0] : "")])
    error_message = "The label prefixes kubernetes.io/ and k8s.io/ are reserved for Kubernetes components."
  }

  validation {
    condition     = alltrue([for v in values(var.labels) : can(regex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", v))])
    error_message = "Label values must be at most 63 letters, digits, - _ . starting and ending alphanumeric (or empty)."
  }
}

variable "limit_cpu" {
  description = "CPU limit of the container (Kubernetes quantity, e.g. 4 or 500m)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$", var.limit_cpu))
    error_message = "limit_cpu must be a CPU quantity such as 2, 0.5 or 500m."
  }
}

variable "limit_memory" {
  description = "Memory limit of the container (Kubernetes quantity, e.g. 8Gi)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", var.limit_memory))
    error_message = "limit_memory must be a memory quantity such as 8Gi or 512Mi."
  }
}

variable "max_retries" {
  description = "Retries of the Job's pod after the first attempt (backoffLimit)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_retries >= 0 && floor(var.max_retries) == var.max_retries
    error_message = "max_retries must be a whole number >= 0."
  }
}

variable "max_runtime_seconds" {
  description = "Longest a run may take (the Job's activeDeadlineSeconds)."
  type        = number
  nullable    = false

  validation {
    condition     = var.max_runtime_seconds > 0 && floor(var.max_runtime_seconds) == var.max_runtime_seconds
    error_message = "max_runtime_seconds must be a whole number > 0."
  }
}

variable "name_prefix" {
  description = "Deterministic base name of every object (tenant-environment-job, at most 26 characters)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-26 lowercase letters, digits and hyphens, starting with a letter (CronJob names allow 52)."
  }
}

variable "namespace" {
  description = "Namespace of the job's objects (the exporter writes \"default\" when the job names none)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label: up to 63 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of the cloud-side resources (EKS lookup on aws, identity location on azure); empty means the provider's default or the cluster's location."
  type        = string
  default     = ""
  nullable    = false
}

variable "request_cpu" {
  description = "CPU request of the container (Kubernetes quantity)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$", var.request_cpu))
    error_message = "request_cpu must be a CPU quantity such as 2, 0.5 or 500m."
  }
}

variable "request_memory" {
  description = "Memory request of the container (Kubernetes quantity)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", var.request_memory))
    error_message = "request_memory must be a memory quantity such as 4Gi or 512Mi."
  }
}

variable "resource_group" {
  description = "Resource group of the AKS cluster and of the job's identity (azure only)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.cloud_provider != "azure" || var.resource_group != ""
    error_message = "resource_group must be set on azure: the AKS cluster and the job's identity live in it."
  }
}

variable "retry_delay_seconds" {
  description = "Delay between retries, for Dagster's op retry policy (output dagster_retry_policy)."
  type        = number
  default     = 0
  nullable    = false
}

variable "runtime_type" {
  description = "Effective runtime of the job; this module serves kubernetes."
  type        = string
  nullable    = false

  validation {
    condition     = var.runtime_type == "kubernetes"
    error_message = "The kubernetes-job module serves runtime_type \"kubernetes\" only."
  }
}

variable "schedule_cron" {
  description = "5-field cron; empty means a suspended CronJob that serves as a template for Dagster and `kubectl create job --from`."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.schedule_cron == "" || can(regex("^\\S+( +\\S+){4}$", trimspace(var.schedule_cron)))
    error_message = "schedule_cron must have 5 fields (minute hour day-of-month month day-of-week), or be empty."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone of the CronJob schedule (spec.timeZone)."
  type        = string
  default     = "UTC"
  nullable    = false
}

variable "service_account" {
  description = "Name of the Kubernetes service account to create; empty means name_prefix."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.service_account == "" || can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "service_account must be a Kubernetes object name (lowercase DNS subdomain), or empty."
  }
}

variable "storage_bucket" {
  description = "Bucket the job writes to (S3 or GCS bucket name; account/container on azure); empty means no storage."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.cloud_provider != "azure" || var.storage_bucket == "" || can(regex("^[a-z0-9]{3,24}/[a-z0-9](-?[a-z0-9]){2,62}$", var.storage_bucket))
    error_message = "On azure storage_bucket must be account/container."
  }
}

variable "storage_create_bucket" {
  description = "Create the bucket with the cloud module's settings (S3 bucket, GCS bucket or blob container; protected from destroy)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.storage_create_bucket || var.storage_bucket != ""
    error_message = "storage_create_bucket needs storage_bucket."
  }

  validation {
    condition     = !(var.storage_create_bucket && var.cloud_provider == "gcp" && var.region == "")
    error_message = "A GCS bucket created here needs a location: set region."
  }
}

variable "storage_kms_key_id" {
  description = "KMS key the job's identity may use: a KMS key ARN (aws) or a Cloud KMS key name (gcp); not used on azure."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition = var.storage_kms_key_id == "" || (
      var.cloud_provider == "aws" ? startswith(var.storage_kms_key_id, "arn:") :
      var.cloud_provider == "gcp" ? can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.storage_kms_key_id)) :
      true
    )
    error_message = "storage_kms_key_id must be a KMS key ARN on aws, projects/P/locations/L/keyRings/R/cryptoKeys/K on gcp."
  }
}

variable "storage_prefix" {
  description = "Prefix the job's identity may read and write under."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = !can(regex("['\"\\\\]", var.storage_prefix))
    error_message = "storage_prefix must not contain quotes or backslashes (it is quoted in the GCP and Azure access conditions)."
  }
}

variable "storage_resource_group" {
  description = "Resource group of the storage account on azure, when it is not resource_group."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Tags (format of cloud_provider) on the cloud-side resources that accept them."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= (var.cloud_provider == "gcp" ? 64 : 50)
    error_message = "Too many tags: AWS and Azure allow 50 per resource, GCP 64 labels."
  }

  validation {
    condition = var.cloud_provider != "aws" || alltrue([
      for k, v in var.tags : !startswith(lower(k), "aws:") && length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "${k}${v}"))
    ])
    error_message = "AWS tags: keys 1-128 characters not starting with aws:, values at most 256, only letters, digits, spaces and + - = . _ : / @."
  }

  validation {
    condition = var.cloud_provider != "gcp" || alltrue([
      for k, v in var.tags : can(regex("^[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}$", k)) && can(regex("^[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}$", v))
    ])
    error_message = "GCP labels: keys 1-63 lowercase letters, digits, _ or -, starting with a letter; values at most 63 of the same."
  }

  validation {
    condition = var.cloud_provider != "azure" || (
      alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 512 && length(v) <= 256 && !can(regex("[<>%&\\\\?/]", k))]) &&
      length(distinct([for k in keys(var.tags) : lower(k)])) == length(var.tags)
    )
    error_message = "Azure tags: names 1-512 characters without < > % & \\ ? / and unique ignoring case, values at most 256."
  }
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
  nullable    = false
}
