output "cluster_name" {
  description = "Cluster the job runs on."
  value       = var.cluster_name
}

output "cron_job_name" {
  description = "Name of the CronJob (`kubectl create job --from=cronjob/NAME` runs it once)."
  value       = kubernetes_cron_job_v1.this.metadata[0].name
}

output "dagster_k8s_config" {
  description = "Value of the dagster-k8s/config tag for Dagster's K8sRunLauncher: container resources, service account, pod labels."
  value       = local.dagster_k8s_config
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = { max_retries = var.max_retries, delay = var.retry_delay_seconds }
}

output "labels" {
  description = "Labels applied to every Kubernetes object (the pods may carry an extra workload identity label)."
  value       = var.labels
}

output "namespace" {
  description = "Namespace of the job's objects (Dagster's K8sRunLauncher job_namespace)."
  value       = local.namespace
}

output "network_policy_name" {
  description = "Name of the NetworkPolicy denying all ingress to the job's pods."
  value       = kubernetes_network_policy_v1.this.metadata[0].name
}

output "scheduled" {
  description = "Whether the CronJob runs on a schedule (false: a suspended template)."
  value       = local.scheduled
}

output "service_account_name" {
  description = "Kubernetes service account of the job's pods."
  value       = kubernetes_service_account_v1.this.metadata[0].name
}
