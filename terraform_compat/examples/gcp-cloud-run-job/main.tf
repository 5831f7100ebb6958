# Root configuration for one job on the gcp-cloud-run-job module: the provider settings, the remote
# state backend and the module call, every exported variable passed through.
#
#   dativo-infra terraform export --config jobs/acme/stripe_customers_gcp.yaml --output acme-gcp.tfvars --backend-config backend-gcp.hcl
#   terraform init -backend-config=backend-gcp.hcl
#   terraform apply -var-file=acme-gcp.tfvars
#
# (terraform_compat/README.md has the whole sequence.)

terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 9.0"
    }
  }

  # partial configuration: the settings come from the job's terraform.backend_config
  # (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)
  backend "gcs" {}
}

# The exported variables name no project: GOOGLE_PROJECT (or -var=project=...) gives it.
provider "google" {
  project = var.project
  region  = var.region
}

module "job" {
  source = "../../modules/gcp-cloud-run-job"

  command               = var.command
  container_name        = var.container_name
  cpu_limit             = var.cpu_limit
  environment           = var.environment
  image                 = var.image
  job_name              = var.job_name
  max_retries           = var.max_retries
  max_runtime_seconds   = var.max_runtime_seconds
  memory_limit          = var.memory_limit
  name_prefix           = var.name_prefix
  network               = var.network
  region                = var.region
  retry_delay_seconds   = var.retry_delay_seconds
  schedule_cron         = var.schedule_cron
  schedule_timezone     = var.schedule_timezone
  service_account       = var.service_account
  storage_bucket        = var.storage_bucket
  storage_create_bucket = var.storage_create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  subnetwork            = var.subnetwork
  tags                  = var.tags
  tenant_id             = var.tenant_id
  vpc_egress            = var.vpc_egress
  required_tag_keys     = var.required_tag_keys
}

output "bucket_name" {
  description = "Bucket the job writes to (created here when storage_create_bucket)."
  value       = module.job.bucket_name
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = module.job.dagster_retry_policy
}

output "invoker_service_account_email" {
  description = "Service account Cloud Scheduler runs the job as (null without a schedule)."
  value       = module.job.invoker_service_account_email
}

output "job_id" {
  description = "ID of the Cloud Run job (projects/P/locations/L/jobs/NAME)."
  value       = module.job.job_id
}

output "job_name" {
  description = "Name of the Cloud Run job (what a Dagster Cloud Run launcher executes)."
  value       = module.job.job_name
}

output "project" {
  description = "Project of the Cloud Run job."
  value       = module.job.project
}

output "region" {
  description = "Region of the Cloud Run job."
  value       = module.job.region
}

output "run_uri" {
  description = "Cloud Run Admin API v2 URL that starts an execution (POST)."
  value       = module.job.run_uri
}

output "scheduler_job_name" {
  description = "Name of the Cloud Scheduler job; null when the job has no schedule."
  value       = module.job.scheduler_job_name
}

output "service_account_email" {
  description = "Service account the job runs as: created here, or the one named by service_account."
  value       = module.job.service_account_email
}

output "tags" {
  description = "Labels applied to every resource that takes labels."
  value       = module.job.tags
}
