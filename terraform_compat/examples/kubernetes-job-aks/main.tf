# Root configuration for one job on AKS: the kubernetes-job module (the Kubernetes objects) and the
# kubernetes-identity-azure module (the user-assigned identity and its storage access), the provider
# settings, the remote state backend, and every exported variable passed through to the module that
# uses it. Only the kubernetes and azurerm providers: nothing here needs AWS or Google credentials.
#
#   dativo-infra terraform export --config jobs/globex/hubspot_contacts_aks.yaml --output globex-aks.tfvars
#   terraform init -backend-config=<your backend settings>
#   terraform apply -var-file=globex-aks.tfvars
#
# (terraform_compat/README.md has the whole sequence.)

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30, < 4.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.65, < 6.0"
    }
  }

  # partial configuration: the settings come from the job's terraform.backend_config
  # (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)
  backend "azurerm" {}
}

# The cluster: a kubeconfig context (az aks get-credentials).
provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}

# ARM_SUBSCRIPTION_ID (or -var=subscription_id=...) gives the subscription.
provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

module "identity" {
  source = "../../modules/kubernetes-identity-azure"

  cluster_name           = var.cluster_name
  environment            = var.environment
  job_name               = var.job_name
  name_prefix            = var.name_prefix
  namespace              = var.namespace
  region                 = var.region
  resource_group         = var.resource_group
  service_account        = var.service_account
  storage_bucket         = var.storage_bucket
  storage_create_bucket  = var.storage_create_bucket
  storage_prefix         = var.storage_prefix
  storage_resource_group = var.storage_resource_group
  tags                   = var.tags
  tenant_id              = var.tenant_id
  required_tag_keys      = var.required_tag_keys
}

# The identity module's outputs bind the service account and the pods to the cloud identity.
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
  description = "The job's cloud identity: the client ID of its user-assigned identity."
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
  description = "Tags applied to the cloud-side resources that accept them."
  value       = module.identity.tags
}
