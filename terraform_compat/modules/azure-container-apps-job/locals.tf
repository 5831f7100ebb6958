# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  scheduled              = var.schedule_cron != ""
  storage_resource_group = var.storage_resource_group == "" ? var.resource_group : var.storage_resource_group

  # Container Apps spells memory in Gi: 512Mi -> 0.5Gi
  memory_gib = endswith(var.memory_size, "Gi") ? tonumber(trimsuffix(var.memory_size, "Gi")) : tonumber(trimsuffix(var.memory_size, "Mi")) / 1024
  memory     = "${local.memory_gib}Gi"
}
