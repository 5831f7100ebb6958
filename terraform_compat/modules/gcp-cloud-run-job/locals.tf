# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  scheduled = var.schedule_cron != ""
}
