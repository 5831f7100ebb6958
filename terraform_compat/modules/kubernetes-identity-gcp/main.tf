# The Google Cloud side of a Dativo job on GKE (Workload Identity): a Google service account that only
# the job's Kubernetes service account may act as, its storage access limited to the job's prefix (as
# in gcp-cloud-run-job), and the bucket when the job creates it. Its outputs bind the service account
# of kubernetes-job to it. With kubernetes-job, the same resources as the Pulumi component
# dativo:kubernetes:Job on gcp (docs/parity.md).

locals {
  gcs_bucket = local.create_bucket ? google_storage_bucket.this[0].name : var.storage_bucket
}

resource "google_service_account" "this" {
  account_id   = "${var.name_prefix}-k8s"
  display_name = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}) on GKE"
  description  = "Workload identity of Kubernetes service account ${var.namespace}/${local.service_account_name}"
}

resource "google_service_account_iam_member" "workload_identity" {
  service_account_id = google_service_account.this.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${google_service_account.this.project}.svc.id.goog[${var.namespace}/${local.service_account_name}]"
}

resource "google_storage_bucket_iam_member" "objects" {
  count = var.storage_bucket != "" ? 1 : 0

  bucket = local.gcs_bucket
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.this.email}"

  dynamic "condition" {
    for_each = local.gcs_prefix_condition == null ? [] : [local.gcs_prefix_condition]
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}

resource "google_storage_bucket_iam_member" "list" {
  count = var.storage_bucket != "" ? 1 : 0

  bucket = local.gcs_bucket
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${google_service_account.this.email}"
}

resource "google_kms_crypto_key_iam_member" "this" {
  count = var.storage_kms_key_id != "" ? 1 : 0

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.this.email}"
}

# --- the bucket, when this job owns it (gcp-cloud-run-job's settings) ---------------------------------

data "google_storage_project_service_account" "this" {
  count = local.create_bucket && var.storage_kms_key_id != "" ? 1 : 0
}

# Cloud Storage encrypts with the key through its own service agent, which needs the key first.
resource "google_kms_crypto_key_iam_member" "storage_agent" {
  count = local.create_bucket && var.storage_kms_key_id != "" ? 1 : 0

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.this[0].email_address}"
}

resource "google_storage_bucket" "this" {
  # checkov:skip=CKV_GCP_62: access logs are an organisation-level sink (Cloud Audit Logs), not configured per job
  count = local.create_bucket ? 1 : 0

  name                        = var.storage_bucket
  location                    = upper(var.region)
  labels                      = var.tags
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.storage_kms_key_id == "" ? [] : [1]
    content {
      default_kms_key_name = var.storage_kms_key_id
    }
  }

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_kms_crypto_key_iam_member.storage_agent]
}
