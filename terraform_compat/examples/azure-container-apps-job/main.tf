# Root configuration for one job on the azure-container-apps-job module: the provider settings, the remote
# state backend and the module call, every exported variable passed through.
#
#   dativo-infra terraform export --config jobs/globex/salesforce_accounts_azure.yaml --output globex.tfvars --backend-config backend-azure.hcl
#   terraform init -backend-config=backend-azure.hcl
#   terraform apply -var-file=globex.tfvars
#
# (terraform_compat/README.md has the whole sequence.)

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.65, < 6.0"
    }
  }

  # partial configuration: the settings come from the job's terraform.backend_config
  # (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)
  backend "azurerm" {}
}

# ARM_SUBSCRIPTION_ID (or -var=subscription_id=...) gives the subscription.
provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

module "job" {
  source = "../../modules/azure-container-apps-job"

  command                = var.command
  container_name         = var.container_name
  cpu_cores              = var.cpu_cores
  environment            = var.environment
  environment_name       = var.environment_name
  image                  = var.image
  job_name               = var.job_name
  max_retries            = var.max_retries
  max_runtime_seconds    = var.max_runtime_seconds
  memory_size            = var.memory_size
  name_prefix            = var.name_prefix
  region                 = var.region
  resource_group         = var.resource_group
  retry_delay_seconds    = var.retry_delay_seconds
  schedule_cron          = var.schedule_cron
  service_account        = var.service_account
  storage_account        = var.storage_account
  storage_container      = var.storage_container
  storage_create_bucket  = var.storage_create_bucket
  storage_prefix         = var.storage_prefix
  storage_resource_group = var.storage_resource_group
  tags                   = var.tags
  tenant_id              = var.tenant_id
  required_tag_keys      = var.required_tag_keys
}

output "bucket_name" {
  description = "Blob container the job writes to, as account/container (created here when storage_create_bucket)."
  value       = module.job.bucket_name
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = module.job.dagster_retry_policy
}

output "environment_id" {
  description = "ID of the Container Apps managed environment the job runs in."
  value       = module.job.environment_id
}

output "identity_client_id" {
  description = "Client ID of the job's user-assigned identity (AZURE_CLIENT_ID in the container)."
  value       = module.job.identity_client_id
}

output "identity_id" {
  description = "Resource ID of the job's user-assigned identity: created here, or the one named by service_account."
  value       = module.job.identity_id
}

output "identity_principal_id" {
  description = "Principal (object) ID of the job's identity, holder of the storage role assignment."
  value       = module.job.identity_principal_id
}

output "job_id" {
  description = "Resource ID of the Container Apps job."
  value       = module.job.job_id
}

output "job_name" {
  description = "Name of the Container Apps job (`az containerapp job start --name`)."
  value       = module.job.job_name
}

output "resource_group" {
  description = "Resource group of the Container Apps job."
  value       = module.job.resource_group
}

output "role_assignment_id" {
  description = "ID of the storage role assignment; null when the job has no storage."
  value       = module.job.role_assignment_id
}

output "storage_account" {
  description = "Storage account of the job's container (storage.bucket's account part)."
  value       = module.job.storage_account
}

output "storage_container" {
  description = "Container the job may use under its prefix (storage.bucket's container part)."
  value       = module.job.storage_container
}

output "tags" {
  description = "Tags applied to every taggable resource."
  value       = module.job.tags
}
