# Values computed from the variables alone (no provider, no data source), so that the tests can
# evaluate them with `terraform console`.

locals {
  storage_prefix = trim(var.storage_prefix, "/")
  # objects the job may touch, relative to the bucket: everything under its prefix
  object_path = local.storage_prefix == "" ? "*" : "${local.storage_prefix}/*"
}
