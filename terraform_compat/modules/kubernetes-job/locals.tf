# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  scheduled            = var.schedule_cron != ""
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix

  # Pods carry the job's labels, plus what the workload identity needs on them (Azure's opt-in label).
  pod_labels = merge(var.labels, var.pod_labels)

  # Without a schedule the CronJob is a suspended template: `kubectl create job --from=cronjob/NAME`.
  cron_schedule = local.scheduled ? var.schedule_cron : "0 0 1 1 *"

  # The dagster-k8s/config tag value Dagster's K8sRunLauncher reads (the same resources,
  # service account, labels and deadline as the CronJob's pods).
  dagster_k8s_config = jsonencode({
    container_config = {
      resources = {
        requests = { cpu = var.request_cpu, memory = var.request_memory }
        limits   = { cpu = var.limit_cpu, memory = var.limit_memory }
      }
    }
    pod_spec_config            = { service_account_name = local.service_account_name }
    pod_template_spec_metadata = { labels = local.pod_labels }
    job_spec_config            = { active_deadline_seconds = var.max_runtime_seconds }
  })

  # The NetworkPolicy picks the job's pods (CronJob runs and Dagster runs alike) by tenant, environment and job.
  pod_selector = { for k in ["dativo.io/tenant", "dativo.io/environment", "dativo.io/job"] : k => var.labels[k] if contains(keys(var.labels), k) }
}
