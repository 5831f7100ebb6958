output "bucket_name" {
  description = "Bucket the job writes to (created here when storage_create_bucket)."
  value       = module.storage.bucket_name
}

output "dagster_retry_policy" {
  description = "Dagster op retry policy of the job: max_retries and delay in seconds."
  value       = { max_retries = var.max_retries, delay = var.retry_delay_seconds }
}

output "invoker_service_account_email" {
  description = "Service account Cloud Scheduler runs the job as (null without a schedule)."
  value       = try(google_service_account.invoker[0].email, null)
}

output "job_id" {
  description = "ID of the Cloud Run job (projects/P/locations/L/jobs/NAME)."
  value       = google_cloud_run_v2_job.this.id
}

output "job_name" {
  description = "Name of the Cloud Run job (what a Dagster Cloud Run launcher executes)."
  value       = google_cloud_run_v2_job.this.name
}

output "project" {
  description = "Project of the Cloud Run job."
  value       = google_cloud_run_v2_job.this.project
}

output "region" {
  description = "Region of the Cloud Run job."
  value       = google_cloud_run_v2_job.this.location
}

output "run_uri" {
  description = "Cloud Run Admin API v2 URL that starts an execution (POST)."
  value       = "https://run.googleapis.com/v2/${google_cloud_run_v2_job.this.id}:run"
}

output "scheduler_job_name" {
  description = "Name of the Cloud Scheduler job; null when the job has no schedule."
  value       = try(google_cloud_scheduler_job.this[0].name, null)
}

output "service_account_email" {
  description = "Service account the job runs as: created here, or the one named by service_account."
  value       = local.service_account_email
}

output "tags" {
  description = "Labels applied to every resource that takes labels."
  value       = var.tags
}
