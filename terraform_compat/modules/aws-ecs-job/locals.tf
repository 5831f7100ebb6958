# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  scheduled = var.schedule_expression != ""

  # Dagster's EcsRunLauncher reads ecs/cpu and ecs/memory; dagster/max_runtime is run monitoring's limit
  # (Fargate has no task timeout).
  run_tags = {
    "dagster/max_runtime" = tostring(var.max_runtime_seconds)
    "ecs/cpu"             = tostring(var.cpu_units)
    "ecs/memory"          = tostring(var.compute_memory)
  }
}
