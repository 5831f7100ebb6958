output "cloud_identity" {
  description = "The job's cloud identity: the e-mail of its Google service account."
  value       = google_service_account.this.email
}

output "pod_labels" {
  description = "Labels the job's pods need for the workload identity, for kubernetes-job's pod_labels: none on GKE."
  value       = {}
}

output "service_account_annotations" {
  description = "Annotations binding the Kubernetes service account to the Google service account, for kubernetes-job's service_account_annotations."
  value       = { "iam.gke.io/gcp-service-account" = google_service_account.this.email }
}

output "tags" {
  description = "Labels applied to the cloud-side resources that accept them."
  value       = var.tags
}
