# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  # the service account kubernetes-job creates (the same rule), the one subject the federated credential trusts
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix
  subject              = "system:serviceaccount:${var.namespace}:${local.service_account_name}"

  create_bucket = var.storage_create_bucket && var.storage_bucket != ""

  # storage_bucket is account/container
  storage_account   = var.storage_bucket != "" ? split("/", var.storage_bucket)[0] : ""
  storage_container = var.storage_bucket != "" ? split("/", var.storage_bucket)[1] : ""
}
