# One Dativo job on Cloud Run jobs: a runner service account with access to its storage prefix
# (and KMS key) only, the Cloud Run v2 job and, when asked for, the bucket (both through
# gcp-job-storage) and a Cloud Scheduler job with its own invoker. The same resources as the
# Pulumi component dativo:gcp:CloudRunJob.

locals {
  create_runner         = var.service_account == ""
  service_account_email = local.create_runner ? google_service_account.runner[0].email : var.service_account
}

# --- identity and storage access -----------------------------------------------------------------

resource "google_service_account" "runner" {
  count = local.create_runner ? 1 : 0

  account_id   = "${var.name_prefix}-run"
  display_name = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  description  = "Runs Cloud Run job ${var.name_prefix}; storage access limited to its prefix"
}

# the runner's access to its prefix and key, and the bucket when the job creates it
module "storage" {
  source = "../gcp-job-storage"

  member                = "serviceAccount:${local.service_account_email}"
  region                = var.region
  storage_bucket        = var.storage_bucket
  storage_create_bucket = var.storage_create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  tags                  = var.tags
}

# --- the job ---------------------------------------------------------------------------------------

resource "google_cloud_run_v2_job" "this" {
  name                = var.name_prefix
  location            = var.region
  labels              = var.tags
  deletion_protection = false # a job holds no data; its bucket is protected instead

  template {
    labels      = var.tags
    task_count  = 1
    parallelism = 1

    template {
      service_account       = local.service_account_email
      timeout               = "${var.max_runtime_seconds}s"
      max_retries           = var.max_retries
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

      containers {
        name    = var.container_name
        image   = var.image
        command = var.command

        resources {
          limits = {
            cpu    = var.cpu_limit
            memory = var.memory_limit
          }
        }
      }

      dynamic "vpc_access" {
        for_each = var.network == "" ? [] : [1]
        content {
          egress = var.vpc_egress

          network_interfaces {
            network    = var.network
            subnetwork = var.subnetwork == "" ? null : var.subnetwork
          }
        }
      }
    }
  }

  # the first execution must find its access in place
  depends_on = [module.storage]
}

# --- schedule (only when the job has one) ------------------------------------------------------------

resource "google_service_account" "invoker" {
  count = local.scheduled ? 1 : 0

  account_id   = "${var.name_prefix}-inv"
  display_name = "Scheduler of Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  description  = "May run Cloud Run job ${var.name_prefix} and nothing else"
}

resource "google_cloud_run_v2_job_iam_member" "invoker" {
  count = local.scheduled ? 1 : 0

  project  = google_cloud_run_v2_job.this.project
  location = google_cloud_run_v2_job.this.location
  name     = google_cloud_run_v2_job.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.invoker[0].email}"
}

resource "google_cloud_scheduler_job" "this" {
  count = local.scheduled ? 1 : 0

  name        = var.name_prefix
  region      = var.region
  description = "Runs Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  schedule    = var.schedule_cron
  time_zone   = var.schedule_timezone

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${google_cloud_run_v2_job.this.project}/locations/${google_cloud_run_v2_job.this.location}/jobs/${google_cloud_run_v2_job.this.name}:run"

    oauth_token {
      service_account_email = google_service_account.invoker[0].email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.invoker]
}
