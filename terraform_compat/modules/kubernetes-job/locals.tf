# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  aws   = var.cloud_provider == "aws"
  gcp   = var.cloud_provider == "gcp"
  azure = var.cloud_provider == "azure"

  scheduled            = var.schedule_cron != ""
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix
  storage_prefix       = trim(var.storage_prefix, "/")

  # Pods carry the job's labels; Azure Workload Identity also needs its opt-in label on the pod.
  pod_labels = merge(var.labels, local.azure ? { "azure.workload.identity/use" = "true" } : {})

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

  # --- storage scoping, the same as in the cloud modules ---
  # AWS: objects the job may touch, relative to the bucket
  object_path = local.storage_prefix == "" ? "*" : "${local.storage_prefix}/*"
  # GCP: IAM condition on the bucket binding (none: the whole bucket)
  gcs_prefix_condition = local.storage_prefix == "" ? null : {
    title       = "dativo job prefix only"
    description = "objects under gs://${var.storage_bucket}/${local.storage_prefix}/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.storage_bucket}/objects/${local.storage_prefix}/\")"
  }

  # Azure: storage_bucket is account/container
  storage_account     = local.azure && var.storage_bucket != "" ? split("/", var.storage_bucket)[0] : ""
  storage_container   = local.azure && var.storage_bucket != "" ? split("/", var.storage_bucket)[1] : ""
  container_attribute = "Microsoft.Storage/storageAccounts/blobServices/containers"
  blob_action         = "${local.container_attribute}/blobs"
  abac_condition = local.storage_prefix == "" ? null : join("\n", [
    "(",
    " (",
    "  !(ActionMatches{'${local.blob_action}/read'} AND NOT SubOperationMatches{'Blob.List'})",
    "  AND !(ActionMatches{'${local.blob_action}/write'})",
    "  AND !(ActionMatches{'${local.blob_action}/add/action'})",
    "  AND !(ActionMatches{'${local.blob_action}/delete'})",
    "  AND !(ActionMatches{'${local.blob_action}/move/action'})",
    " )",
    " OR",
    " (",
    "  @Resource[${local.container_attribute}:name] StringEquals '${local.storage_container}'",
    "  AND @Resource[${local.blob_action}:path] StringStartsWith '${local.storage_prefix}/'",
    " )",
    ")",
    "AND",
    "(",
    " (",
    "  !(ActionMatches{'${local.blob_action}/read'} AND SubOperationMatches{'Blob.List'})",
    " )",
    " OR",
    " (",
    "  @Resource[${local.container_attribute}:name] StringEquals '${local.storage_container}'",
    "  AND @Request[${local.blob_action}:prefix] StringStartsWith '${local.storage_prefix}/'",
    " )",
    ")",
  ])
}
