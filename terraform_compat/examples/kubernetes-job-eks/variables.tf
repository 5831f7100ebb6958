# The variables of kubernetes-job and kubernetes-identity-aws (validated there), declared here so that
# the exported tfvars file can set them with -var-file; plus the provider settings the exported
# variables do not carry. tests/test_tf_modules.py keeps this list equal to the modules'.

variable "cloud_provider" {
  description = "Cloud of the job (the job file's infrastructure.provider; for a Kubernetes job the cloud behind the cluster): it picks the modules of the root, which checks it."
  type        = string
  nullable    = false
}

variable "cluster_name" {
  description = "EKS cluster the job runs on: the role trusts its OIDC issuer."
  type        = string
}

variable "command" {
  description = "Container command: the Dativo runner with this job's file."
  type        = list(string)
}

variable "compute_cpu" {
  description = "vCPUs the job asked for, as written in the job file; each runtime's own spelling (cpu_units, cpu_limit, cpu_cores, request_cpu) is what its module uses."
  type        = number
  nullable    = false
}

variable "compute_memory" {
  description = "Memory in MiB the job asked for; each runtime's own spelling (memory_limit, memory_size, request_memory) is what its module uses (aws-ecs-job uses this one)."
  type        = number
  nullable    = false
}

variable "container_name" {
  description = "Name of the runner container."
  type        = string
}

variable "create_namespace" {
  description = "Create the namespace (e.g. one namespace per tenant); otherwise it must exist."
  type        = bool
  default     = false
}

variable "environment" {
  description = "Environment of the job (prod, staging, ...)."
  type        = string
}

variable "finops_estimate" {
  description = "Cost-estimate inputs of `dativo-infra cost` (docs/cost.md), exported with the job so an estimate from tfvars equals one from the job file; no resource uses them."
  type = object({
    expected_log_gb_per_run     = optional(number)
    expected_runtime_seconds    = optional(number)
    expected_storage_gb_per_run = optional(number)
    monthly_budget              = optional(number)
  })
  default  = {}
  nullable = false
}

variable "image" {
  description = "Container image of the Dativo runner."
  type        = string
}

variable "job_name" {
  description = "Name of the job (from its file name)."
  type        = string
}

variable "kube_context" {
  description = "kubeconfig context of the cluster; null means the current context."
  type        = string
  default     = null
}

variable "kubeconfig_path" {
  description = "kubeconfig file of the cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "labels" {
  description = "Labels (Kubernetes format) on every Kubernetes object and on the pod template."
  type        = map(string)
  default     = {}
}

variable "limit_cpu" {
  description = "CPU limit of the container (Kubernetes quantity, e.g. 4 or 500m)."
  type        = string
}

variable "limit_memory" {
  description = "Memory limit of the container (Kubernetes quantity, e.g. 8Gi)."
  type        = string
}

variable "max_retries" {
  description = "Retries of the Job's pod after the first attempt (backoffLimit)."
  type        = number
}

variable "max_runtime_seconds" {
  description = "Longest a run may take (the Job's activeDeadlineSeconds)."
  type        = number
}

variable "name_prefix" {
  description = "Deterministic base name of every object (tenant-environment-job, at most 26 characters)."
  type        = string
}

variable "namespace" {
  description = "Namespace of the job's objects (the exporter writes \"default\" when the job names none)."
  type        = string
}

variable "region" {
  description = "Region of the EKS cluster and of a created bucket; empty means the provider's region."
  type        = string
  default     = ""
}

variable "request_cpu" {
  description = "CPU request of the container (Kubernetes quantity)."
  type        = string
}

variable "request_memory" {
  description = "Memory request of the container (Kubernetes quantity)."
  type        = string
}

variable "required_label_keys" {
  description = "Label keys the stack's tag policy requires (Kubernetes format); kubernetes-job rejects labels without them."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "required_tag_keys" {
  description = "Tag keys the stack's tag policy requires (exported by dativo-infra); the modules reject tags without them."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "resource_group" {
  description = "Azure resource group (exported for every Kubernetes job: the resource group of an AKS cluster); jobs on EKS and GKE have none."
  type        = string
  default     = ""
  nullable    = false
}

variable "retry_delay_seconds" {
  description = "Delay between retries, for Dagster's op retry policy (output dagster_retry_policy)."
  type        = number
  default     = 0
}

variable "runtime_type" {
  description = "Runtime of the job (ecs, cloud_run, container_apps, kubernetes): it picks the module of the root."
  type        = string
  nullable    = false
}

variable "schedule_cron" {
  description = "5-field cron; empty means a suspended CronJob that serves as a template for Dagster and `kubectl create job --from`."
  type        = string
  default     = ""
}

variable "schedule_timezone" {
  description = "IANA time zone of the CronJob schedule (spec.timeZone)."
  type        = string
  default     = "UTC"
}

variable "service_account" {
  description = "Name of the Kubernetes service account to create; empty means name_prefix."
  type        = string
  default     = ""
}

variable "storage_bucket" {
  description = "S3 bucket the job writes to; empty means no storage."
  type        = string
  default     = ""
}

variable "storage_create_bucket" {
  description = "Create the bucket with aws-ecs-job's settings (encrypted, versioned, private; protected from destroy)."
  type        = bool
  default     = false
}

variable "storage_kms_key_id" {
  description = "KMS key ARN the job's role may use (and a created bucket's default key)."
  type        = string
  default     = ""
}

variable "storage_prefix" {
  description = "Key prefix the job's role may read and write under (it gets nothing outside it)."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags (AWS format) added to every resource that accepts them."
  type        = map(string)
  default     = {}
}

variable "tenant_id" {
  description = "Tenant of the job."
  type        = string
}
