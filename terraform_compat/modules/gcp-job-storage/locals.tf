# Values computed from the variables alone (no provider, no data source), so that the tests can
# evaluate them with `terraform console`.

locals {
  storage_prefix = trim(var.storage_prefix, "/")

  # IAM condition on the bucket binding: object names under the job's prefix only (none: the whole bucket).
  prefix_condition = local.storage_prefix == "" ? null : {
    title       = "dativo job prefix only"
    description = "objects under gs://${var.storage_bucket}/${local.storage_prefix}/"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.storage_bucket}/objects/${local.storage_prefix}/\")"
  }
}
