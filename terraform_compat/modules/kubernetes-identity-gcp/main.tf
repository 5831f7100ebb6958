# The Google Cloud side of a Dativo job on GKE (Workload Identity): a Google service account that only
# the job's Kubernetes service account may act as, its storage access limited to the job's prefix and
# the bucket when the job creates it (both through gcp-job-storage, as in gcp-cloud-run-job). Its
# outputs bind the service account of kubernetes-job to it. With kubernetes-job, the same resources as
# the Pulumi component dativo:kubernetes:Job on gcp (docs/parity.md).

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

# the service account's access to its prefix and key, and the bucket when the job creates it
module "storage" {
  source = "../gcp-job-storage"

  member                = "serviceAccount:${google_service_account.this.email}"
  region                = var.region
  storage_bucket        = var.storage_bucket
  storage_create_bucket = var.storage_create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  tags                  = var.tags
}
