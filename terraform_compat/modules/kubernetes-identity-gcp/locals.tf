# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  # the service account kubernetes-job creates (the same rule), the one member of the workload identity binding
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix
}
