# Variables exported by `dativo-infra terraform export` for a Kubernetes job that this module uses (the
# Kubernetes objects), in alphabetical order, plus the workload identity binding that a
# kubernetes-identity-<cloud> module gives (pod_labels, service_account_annotations). The other
# exported variables go to the identity module; tests/test_tf_contract.py checks that both modules
# together declare the exported set.

variable "cluster_name" {
  description = "Cluster the job runs on (informational here, output cluster_name); on EKS and AKS the identity module trusts its OIDC issuer."
  type        = string
  default     = ""
  nullable    = false
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

variable "image" {
  description = "Container image of the Dativo runner."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.image) > 0
    error_message = "image must not be empty."
  }
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

  validation {
    condition     = length(setsubtract(var.required_label_keys, keys(var.labels))) == 0
    error_message = "labels lacks keys the tag policy requires: ${join(", ", sort(setsubtract(var.required_label_keys, keys(var.labels))))}."
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

variable "pod_labels" {
  description = "Labels the pods carry besides the job's labels: the identity module's pod_labels (azure.workload.identity/use on AKS)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for k, v in var.pod_labels :
      can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", k)) &&
      can(regex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", v))
    ])
    error_message = "pod_labels must be Kubernetes labels: keys [prefix/]name, values at most 63 letters, digits, - _ . starting and ending alphanumeric."
  }
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

variable "required_label_keys" {
  description = "Keys (Kubernetes label format) that labels must contain: the tag policy's required keys for this job (docs/policy.md), written by dativo-infra terraform export. Empty: no check."
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

variable "service_account_annotations" {
  description = "Annotations of the service account: the identity module's service_account_annotations (the workload identity binding); empty on a cluster without one."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.service_account_annotations) : can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", k))])
    error_message = "Annotation keys must be [prefix/]name: prefix a DNS subdomain, name at most 63 letters, digits, - _ . starting and ending alphanumeric."
  }
}
