output "bucket_name" {
  description = "Blob container the job writes to, as account/container (created here when storage_create_bucket)."
  value       = var.storage_account == "" ? "" : "${var.storage_account}/${var.storage_container}"
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = { max_retries = var.max_retries, delay = var.retry_delay_seconds }
}

output "environment_id" {
  description = "ID of the Container Apps managed environment the job runs in."
  value       = data.azurerm_container_app_environment.this.id
}

output "identity_client_id" {
  description = "Client ID of the job's user-assigned identity (AZURE_CLIENT_ID in the container)."
  value       = local.identity_client_id
}

output "identity_id" {
  description = "Resource ID of the job's user-assigned identity: created here, or the one named by service_account."
  value       = local.identity_id
}

output "identity_principal_id" {
  description = "Principal (object) ID of the job's identity, holder of the storage role assignment."
  value       = local.identity_principal_id
}

output "job_id" {
  description = "Resource ID of the Container Apps job."
  value       = azurerm_container_app_job.this.id
}

output "job_name" {
  description = "Name of the Container Apps job (`az containerapp job start --name`)."
  value       = azurerm_container_app_job.this.name
}

output "resource_group" {
  description = "Resource group of the Container Apps job."
  value       = azurerm_container_app_job.this.resource_group_name
}

output "role_assignment_id" {
  description = "ID of the storage role assignment; null when the job has no storage."
  value       = try(azurerm_role_assignment.storage[0].id, null)
}

output "storage_account" {
  description = "Storage account of the job's container (storage.bucket's account part)."
  value       = var.storage_account
}

output "storage_container" {
  description = "Container the job may use under its prefix (storage.bucket's container part)."
  value       = var.storage_container
}

output "tags" {
  description = "Tags applied to every taggable resource."
  value       = var.tags
}
