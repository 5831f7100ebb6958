# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  # the service account kubernetes-job creates (the same rule), the one member of the workload identity binding
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix

  create_bucket  = var.storage_create_bucket && var.storage_bucket != ""
  storage_prefix = trim(var.storage_prefix, "/")
  # IAM condition on the bucket binding (none: the whole bucket), as in gcp-cloud-run-job
  gcs_prefix_condition = local.storage_prefix == "" ? null : {
    title       = "dativo job prefix only"
    description = "objects under gs://${var.storage_bucket}/${local.storage_prefix}/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.storage_bucket}/objects/${local.storage_prefix}/\")"
  }
}
