# Root configuration for one job on GKE: the kubernetes-job module (the Kubernetes objects) and the
# kubernetes-identity-gcp module (the Google service account and its storage access), the provider
# settings, the remote state backend, and every exported variable passed through to the module that
# uses it. Only the kubernetes and google providers: nothing here needs AWS or Azure credentials.
#
#   dativo-infra terraform export --config jobs/acme/salesforce_accounts_gke.yaml --output acme-gke.tfvars
#   terraform init -backend-config=<your backend settings>
#   terraform apply -var-file=acme-gke.tfvars
#
# (terraform_compat/README.md has the whole sequence.)

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30, < 4.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 9.0"
    }
  }

  # partial configuration: the settings come from the job's terraform.backend_config
  # (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)
  backend "gcs" {}
}

# The cluster: a kubeconfig context (gcloud container clusters get-credentials).
provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}

# The exported variables name no project: GOOGLE_PROJECT (or -var=project=...) gives it.
provider "google" {
  project = var.project
}

module "identity" {
  source = "../../modules/kubernetes-identity-gcp"

  environment           = var.environment
  job_name              = var.job_name
  name_prefix           = var.name_prefix
  namespace             = var.namespace
  region                = var.region
  service_account       = var.service_account
  storage_bucket        = var.storage_bucket
  storage_create_bucket = var.storage_create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  tags                  = var.tags
  tenant_id             = var.tenant_id
  required_tag_keys     = var.required_tag_keys
}

# The identity module's outputs bind the service account to the cloud identity.
module "job" {
  source = "../../modules/kubernetes-job"

  cluster_name                = var.cluster_name
  command                     = var.command
  container_name              = var.container_name
  create_namespace            = var.create_namespace
  image                       = var.image
  labels                      = var.labels
  limit_cpu                   = var.limit_cpu
  limit_memory                = var.limit_memory
  max_retries                 = var.max_retries
  max_runtime_seconds         = var.max_runtime_seconds
  name_prefix                 = var.name_prefix
  namespace                   = var.namespace
  pod_labels                  = module.identity.pod_labels
  request_cpu                 = var.request_cpu
  request_memory              = var.request_memory
  retry_delay_seconds         = var.retry_delay_seconds
  schedule_cron               = var.schedule_cron
  schedule_timezone           = var.schedule_timezone
  service_account             = var.service_account
  service_account_annotations = module.identity.service_account_annotations
  required_label_keys         = var.required_label_keys
}

output "cloud_identity" {
  description = "The job's cloud identity: the e-mail of its Google service account."
  value       = module.identity.cloud_identity
}

output "cluster_name" {
  description = "Cluster the job runs on."
  value       = module.job.cluster_name
}

output "cron_job_name" {
  description = "Name of the CronJob (`kubectl create job --from=cronjob/NAME` runs it once)."
  value       = module.job.cron_job_name
}

output "dagster_k8s_config" {
  description = "Value of the dagster-k8s/config tag for Dagster's K8sRunLauncher: container resources, service account, pod labels."
  value       = module.job.dagster_k8s_config
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = module.job.dagster_retry_policy
}

output "labels" {
  description = "Labels applied to every Kubernetes object (the pods may carry an extra workload identity label)."
  value       = module.job.labels
}

output "namespace" {
  description = "Namespace of the job's objects (Dagster's K8sRunLauncher job_namespace)."
  value       = module.job.namespace
}

output "network_policy_name" {
  description = "Name of the NetworkPolicy denying all ingress to the job's pods."
  value       = module.job.network_policy_name
}

output "scheduled" {
  description = "Whether the CronJob runs on a schedule (false: a suspended template)."
  value       = module.job.scheduled
}

output "service_account_name" {
  description = "Kubernetes service account of the job's pods."
  value       = module.job.service_account_name
}

output "tags" {
  description = "Labels applied to the cloud-side resources that accept them."
  value       = module.identity.tags
}
