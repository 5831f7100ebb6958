output "cloud_identity" {
  description = "The job's cloud identity: the ARN of its IAM role."
  value       = aws_iam_role.this.arn
}

output "pod_labels" {
  description = "Labels the job's pods need for the workload identity, for kubernetes-job's pod_labels: none on EKS."
  value       = {}
}

output "service_account_annotations" {
  description = "Annotations binding the Kubernetes service account to the role, for kubernetes-job's service_account_annotations."
  value       = { "eks.amazonaws.com/role-arn" = aws_iam_role.this.arn }
}

output "tags" {
  description = "Tags applied to the cloud-side resources that accept them."
  value       = var.tags
}
