output "assign_public_ip" {
  description = "Whether tasks get a public IP (Dagster's run_task_kwargs networkConfiguration)."
  value       = var.assign_public_ip
}

output "bucket_name" {
  description = "Bucket the job writes to (created here when storage_create_bucket)."
  value       = module.storage.bucket_name
}

output "cluster_arn" {
  description = "ARN of the cluster the task runs in."
  value       = local.cluster_arn
}

output "cluster_name" {
  description = "Name of the cluster the task runs in (Dagster's EcsRunLauncher `cluster`)."
  value       = local.cluster_name
}

output "container_name" {
  description = "Name of the runner container (Dagster's EcsRunLauncher `container_name`)."
  value       = var.container_name
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = { max_retries = var.max_retries, delay = var.retry_delay_seconds }
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the job."
  value       = aws_cloudwatch_log_group.this.name
}

output "run_tags" {
  description = "Dagster run tags: ecs/cpu, ecs/memory (EcsRunLauncher) and dagster/max_runtime (run monitoring)."
  value       = local.run_tags
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule; null when the job has no schedule."
  value       = try(aws_scheduler_schedule.this[0].arn, null)
}

output "security_group_id" {
  description = "ID of the security group this module creates (no ingress)."
  value       = aws_security_group.this.id
}

output "security_group_ids" {
  description = "Every security group of the task (Dagster's run_task_kwargs networkConfiguration)."
  value       = local.security_group_ids
}

output "subnet_ids" {
  description = "Subnets of the task (Dagster's run_task_kwargs networkConfiguration)."
  value       = var.subnet_ids
}

output "tags" {
  description = "Tags applied to every taggable resource."
  value       = var.tags
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition (Dagster's EcsRunLauncher `task_definition`)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the task role: created here, or the one named by service_account."
  value       = local.task_role_arn
}
