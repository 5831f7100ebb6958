output "cloud_identity" {
  description = "The job's cloud identity: the client ID of its user-assigned identity."
  value       = azurerm_user_assigned_identity.this.client_id
}

output "pod_labels" {
  description = "Labels the job's pods need for the workload identity, for kubernetes-job's pod_labels: the AKS webhook injects the token only into pods labelled azure.workload.identity/use."
  value       = { "azure.workload.identity/use" = "true" }
}

output "service_account_annotations" {
  description = "Annotations binding the Kubernetes service account to the identity, for kubernetes-job's service_account_annotations."
  value       = { "azure.workload.identity/client-id" = azurerm_user_assigned_identity.this.client_id }
}

output "tags" {
  description = "Tags applied to the cloud-side resources that accept them."
  value       = var.tags
}
