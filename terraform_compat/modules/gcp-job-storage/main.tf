# The storage side of a Dativo job on Google Cloud, shared by gcp-cloud-run-job and kubernetes-identity-gcp:
# the job identity's access to the bucket (objects under its prefix only, through an IAM condition, and
# object listing) and to the job's KMS key, and the bucket itself when the job creates it (private,
# versioned, CMEK with the job's key, protected from destroy). The Pulumi components share the same
# code: dativo_infra/components/gcp_iam.py (grant_storage, create_bucket).

locals {
  bucket_name = var.storage_create_bucket ? google_storage_bucket.this[0].name : var.storage_bucket
}

# --- the identity's access -----------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "objects" {
  count = var.storage_bucket == "" ? 0 : 1

  bucket = local.bucket_name
  role   = "roles/storage.objectAdmin"
  member = var.member

  dynamic "condition" {
    for_each = local.prefix_condition == null ? [] : [local.prefix_condition]
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}

resource "google_storage_bucket_iam_member" "list" {
  count = var.storage_bucket == "" ? 0 : 1

  bucket = local.bucket_name
  role   = "roles/storage.legacyBucketReader"
  member = var.member
}

resource "google_kms_crypto_key_iam_member" "identity" {
  count = var.storage_kms_key_id == "" ? 0 : 1

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = var.member
}

# --- the bucket, when the job owns it ------------------------------------------------------------------

data "google_storage_project_service_account" "this" {
  count = var.storage_create_bucket && var.storage_kms_key_id != "" ? 1 : 0
}

# Cloud Storage encrypts with the key through its own service agent, which needs the key first.
resource "google_kms_crypto_key_iam_member" "storage_agent" {
  count = var.storage_create_bucket && var.storage_kms_key_id != "" ? 1 : 0

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.this[0].email_address}"
}

resource "google_storage_bucket" "this" {
  # checkov:skip=CKV_GCP_62: access logs are an organisation-level sink (Cloud Audit Logs), not configured per job
  count = var.storage_create_bucket ? 1 : 0

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
