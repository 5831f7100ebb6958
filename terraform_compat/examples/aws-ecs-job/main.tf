# Root configuration for one job on the aws-ecs-job module: the provider settings, the remote
# state backend and the module call, every exported variable passed through.
#
#   dativo-infra terraform export --config jobs/acme/stripe_customers_aws.yaml --output acme.tfvars --backend-config backend.hcl
#   terraform init -backend-config=backend.hcl
#   terraform apply -var-file=acme.tfvars
#
# (terraform_compat/README.md has the whole sequence.)

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }

  # partial configuration: the settings come from the job's terraform.backend_config
  # (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)
  backend "s3" {}
}

# The job's region when it names one, else AWS_REGION or the profile's region. No default_tags:
# the module puts the job's tags on each resource itself.
provider "aws" {
  region = var.region == "" ? null : var.region
}

module "job" {
  source = "../../modules/aws-ecs-job"

  assign_public_ip          = var.assign_public_ip
  cluster_name              = var.cluster_name
  command                   = var.command
  compute_memory            = var.compute_memory
  container_name            = var.container_name
  cpu_units                 = var.cpu_units
  create_cluster            = var.create_cluster
  enable_container_insights = var.enable_container_insights
  environment               = var.environment
  cpu_architecture          = var.cpu_architecture
  ephemeral_storage_gib     = var.ephemeral_storage_gib
  image                     = var.image
  job_name                  = var.job_name
  log_group_name            = var.log_group_name
  log_retention_days        = var.log_retention_days
  max_retries               = var.max_retries
  max_runtime_seconds       = var.max_runtime_seconds
  name_prefix               = var.name_prefix
  region                    = var.region
  retry_delay_seconds       = var.retry_delay_seconds
  schedule_cron             = var.schedule_cron
  schedule_expression       = var.schedule_expression
  schedule_timezone         = var.schedule_timezone
  security_group_ids        = var.security_group_ids
  service_account           = var.service_account
  stop_timeout_seconds      = var.stop_timeout_seconds
  storage_bucket            = var.storage_bucket
  storage_create_bucket     = var.storage_create_bucket
  storage_kms_key_id        = var.storage_kms_key_id
  storage_prefix            = var.storage_prefix
  subnet_ids                = var.subnet_ids
  tags                      = var.tags
  tenant_id                 = var.tenant_id
  vpc_id                    = var.vpc_id
  required_tag_keys         = var.required_tag_keys
}

output "assign_public_ip" {
  description = "Whether tasks get a public IP (Dagster's run_task_kwargs networkConfiguration)."
  value       = module.job.assign_public_ip
}

output "bucket_name" {
  description = "Bucket the job writes to (created here when storage_create_bucket)."
  value       = module.job.bucket_name
}

output "cluster_arn" {
  description = "ARN of the cluster the task runs in."
  value       = module.job.cluster_arn
}

output "cluster_name" {
  description = "Name of the cluster the task runs in (Dagster's EcsRunLauncher `cluster`)."
  value       = module.job.cluster_name
}

output "container_name" {
  description = "Name of the runner container (Dagster's EcsRunLauncher `container_name`)."
  value       = module.job.container_name
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = module.job.dagster_retry_policy
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = module.job.execution_role_arn
}

output "log_group_name" {
  description = "CloudWatch log group of the job."
  value       = module.job.log_group_name
}

output "run_tags" {
  description = "Dagster run tags: ecs/cpu, ecs/memory (EcsRunLauncher) and dagster/max_runtime (run monitoring)."
  value       = module.job.run_tags
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule; null when the job has no schedule."
  value       = module.job.schedule_arn
}

output "security_group_id" {
  description = "ID of the security group this module creates (no ingress)."
  value       = module.job.security_group_id
}

output "security_group_ids" {
  description = "Every security group of the task (Dagster's run_task_kwargs networkConfiguration)."
  value       = module.job.security_group_ids
}

output "subnet_ids" {
  description = "Subnets of the task (Dagster's run_task_kwargs networkConfiguration)."
  value       = module.job.subnet_ids
}

output "tags" {
  description = "Tags applied to every taggable resource."
  value       = module.job.tags
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition (Dagster's EcsRunLauncher `task_definition`)."
  value       = module.job.task_definition_arn
}

output "task_role_arn" {
  description = "ARN of the task role: created here, or the one named by service_account."
  value       = module.job.task_role_arn
}
