# One Dativo job on Kubernetes (EKS, GKE or AKS): the namespace when asked for, a service account
# bound to a cloud identity through workload identity (storage access limited to the job's prefix,
# as in the cloud modules), a NetworkPolicy denying all ingress to the job's pods, and a CronJob.
# The same resources as the Pulumi component dativo:kubernetes:Job (docs/parity.md).

locals {
  namespace = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
  # the service account the cloud identity trusts: system:serviceaccount:NAMESPACE:NAME
  subject = "system:serviceaccount:${var.namespace}:${local.service_account_name}"

  workload_identity_annotation = {
    aws   = { "eks.amazonaws.com/role-arn" = try(aws_iam_role.this[0].arn, "") }
    gcp   = { "iam.gke.io/gcp-service-account" = try(google_service_account.this[0].email, "") }
    azure = { "azure.workload.identity/client-id" = try(azurerm_user_assigned_identity.this[0].client_id, "") }
  }[var.cloud_provider]

  create_bucket = var.storage_create_bucket && var.storage_bucket != ""
  gcs_bucket    = local.gcp && local.create_bucket ? google_storage_bucket.this[0].name : var.storage_bucket

  cloud_identity = {
    aws   = try(aws_iam_role.this[0].arn, null)
    gcp   = try(google_service_account.this[0].email, null)
    azure = try(azurerm_user_assigned_identity.this[0].client_id, null)
  }[var.cloud_provider]
}

# --- Kubernetes objects ------------------------------------------------------------------------------

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name   = var.namespace
    labels = var.labels
  }
}

resource "kubernetes_service_account_v1" "this" {
  metadata {
    name        = local.service_account_name
    namespace   = local.namespace
    labels      = var.labels
    annotations = local.workload_identity_annotation
  }

  # workload identity projects its own token; the Kubernetes API token is not needed
  automount_service_account_token = false
}

resource "kubernetes_network_policy_v1" "this" {
  metadata {
    name      = "${var.name_prefix}-deny-ingress"
    namespace = local.namespace
    labels    = var.labels
  }

  spec {
    pod_selector {
      match_labels = local.pod_selector
    }

    # Ingress listed with no ingress rule: nothing may connect to the job's pods
    policy_types = ["Ingress"]
  }
}

resource "kubernetes_cron_job_v1" "this" {
  metadata {
    name      = var.name_prefix
    namespace = local.namespace
    labels    = var.labels
  }

  spec {
    schedule                      = local.cron_schedule
    timezone                      = var.schedule_timezone
    suspend                       = !local.scheduled
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 3
    failed_jobs_history_limit     = 3

    job_template {
      metadata {
        labels = var.labels
      }

      spec {
        backoff_limit           = var.max_retries
        active_deadline_seconds = var.max_runtime_seconds

        template {
          metadata {
            labels = local.pod_labels
          }

          spec {
            service_account_name            = kubernetes_service_account_v1.this.metadata[0].name
            automount_service_account_token = false
            restart_policy                  = "Never"

            # a UID, not just runAsNonRoot: the kubelet refuses runAsNonRoot for an image whose USER is root or a name
            security_context {
              run_as_non_root = true
              run_as_user     = 1000
              run_as_group    = 1000

              seccomp_profile {
                type = "RuntimeDefault"
              }
            }

            container {
              name              = var.container_name
              image             = var.image
              image_pull_policy = "Always"
              command           = var.command

              resources {
                requests = {
                  cpu    = var.request_cpu
                  memory = var.request_memory
                }
                limits = {
                  cpu    = var.limit_cpu
                  memory = var.limit_memory
                }
              }

              security_context {
                allow_privilege_escalation = false
                privileged                 = false
                read_only_root_filesystem  = true
                run_as_non_root            = true

                capabilities {
                  drop = ["ALL"]
                }

                seccomp_profile {
                  type = "RuntimeDefault"
                }
              }

              # the root filesystem is read-only: the runner's staging files and caches go to /tmp
              env {
                name  = "HOME"
                value = "/tmp"
              }
              env {
                name  = "TMPDIR"
                value = "/tmp"
              }
              volume_mount {
                name       = "scratch"
                mount_path = "/tmp"
              }
            }

            volume {
              name = "scratch"
              empty_dir {}
            }
          }
        }
      }
    }
  }
}

# --- cloud identity: AWS (IRSA) --------------------------------------------------------------------

data "aws_eks_cluster" "this" {
  count = local.aws ? 1 : 0

  name   = var.cluster_name
  region = var.region == "" ? null : var.region
}

data "aws_caller_identity" "current" {
  count = local.aws ? 1 : 0
}

data "aws_partition" "current" {
  count = local.aws ? 1 : 0
}

locals {
  aws_partition   = try(data.aws_partition.current[0].partition, "aws")
  aws_oidc_issuer = try(trimprefix(data.aws_eks_cluster.this[0].identity[0].oidc[0].issuer, "https://"), "")
}

data "aws_iam_policy_document" "irsa_trust" {
  count = local.aws ? 1 : 0

  statement {
    sid     = "ThisServiceAccountOnly"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = ["arn:${local.aws_partition}:iam::${data.aws_caller_identity.current[0].account_id}:oidc-provider/${local.aws_oidc_issuer}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.aws_oidc_issuer}:sub"
      values   = [local.subject]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.aws_oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = local.aws ? 1 : 0

  name               = "${var.name_prefix}-k8s"
  description        = "IRSA role of Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): its storage prefix only"
  assume_role_policy = data.aws_iam_policy_document.irsa_trust[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "storage" {
  count = local.aws ? 1 : 0

  dynamic "statement" {
    for_each = var.storage_bucket == "" ? [] : [1]
    content {
      sid       = "ObjectsUnderPrefix"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = ["arn:${local.aws_partition}:s3:::${var.storage_bucket}/${local.object_path}"]
    }
  }

  dynamic "statement" {
    for_each = var.storage_bucket == "" ? [] : [1]
    content {
      sid       = "ListPrefix"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.aws_partition}:s3:::${var.storage_bucket}"]

      dynamic "condition" {
        for_each = local.storage_prefix == "" ? [] : [1]
        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = [local.storage_prefix, "${local.storage_prefix}/*"]
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.storage_kms_key_id == "" ? [] : [1]
    content {
      sid       = "UseTheJobKey"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      resources = [var.storage_kms_key_id]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = local.aws && var.storage_bucket != "" ? 1 : 0

  name   = "${var.name_prefix}-storage"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.storage[0].json
}

# --- cloud identity: GCP (GKE Workload Identity) ------------------------------------------------------

resource "google_service_account" "this" {
  count = local.gcp ? 1 : 0

  account_id   = "${var.name_prefix}-k8s"
  display_name = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment})"
  description  = "Workload identity of Kubernetes service account ${var.namespace}/${local.service_account_name}"
}

resource "google_service_account_iam_member" "workload_identity" {
  count = local.gcp ? 1 : 0

  service_account_id = google_service_account.this[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${google_service_account.this[0].project}.svc.id.goog[${var.namespace}/${local.service_account_name}]"
}

resource "google_storage_bucket_iam_member" "objects" {
  count = local.gcp && var.storage_bucket != "" ? 1 : 0

  bucket = local.gcs_bucket
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.this[0].email}"

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
  count = local.gcp && var.storage_bucket != "" ? 1 : 0

  bucket = local.gcs_bucket
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${google_service_account.this[0].email}"
}

resource "google_kms_crypto_key_iam_member" "this" {
  count = local.gcp && var.storage_kms_key_id != "" ? 1 : 0

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.this[0].email}"
}

# --- cloud identity: Azure (AKS Workload Identity) ----------------------------------------------------

data "azurerm_kubernetes_cluster" "this" {
  count = local.azure ? 1 : 0

  name                = var.cluster_name
  resource_group_name = var.resource_group
}

resource "azurerm_user_assigned_identity" "this" {
  count = local.azure ? 1 : 0

  name                = "${var.name_prefix}-id"
  location            = var.region == "" ? data.azurerm_kubernetes_cluster.this[0].location : var.region
  resource_group_name = var.resource_group
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "this" {
  count = local.azure ? 1 : 0

  name                = "${var.name_prefix}-k8s"
  resource_group_name = var.resource_group
  parent_id           = azurerm_user_assigned_identity.this[0].id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = data.azurerm_kubernetes_cluster.this[0].oidc_issuer_url
  subject             = local.subject
}

data "azurerm_storage_account" "this" {
  count = local.azure && local.storage_account != "" ? 1 : 0

  name                = local.storage_account
  resource_group_name = var.storage_resource_group == "" ? var.resource_group : var.storage_resource_group
}

resource "azurerm_role_assignment" "this" {
  count = local.azure && local.storage_account != "" ? 1 : 0

  scope                = "${data.azurerm_storage_account.this[0].id}/blobServices/default/containers/${local.storage_container}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.this[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): blobs under its prefix only"
  condition            = local.abac_condition
  condition_version    = local.abac_condition == null ? null : "2.0"

  depends_on = [azurerm_storage_container.this]
}

# --- storage, when this stack owns it (the cloud modules' settings) -----------------------------------

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: access logs go to an organisation-wide log bucket, configured outside a job
  # checkov:skip=CKV_AWS_144: cross-region replication is an organisation-level DR decision, not a job's
  # checkov:skip=CKV2_AWS_62: no consumer of bucket event notifications; Iceberg commits go through the catalog
  # checkov:skip=CKV2_AWS_61: no lifecycle rule: table files are expired by Iceberg snapshot expiry, a rule would corrupt tables
  # checkov:skip=CKV_AWS_145: SSE-KMS whenever the job names a key (storage_kms_key_id); SSE-S3 otherwise
  # checkov:skip=CKV_AWS_19: always encrypted by aws_s3_bucket_server_side_encryption_configuration.this; checkov cannot resolve its conditional algorithm
  count = local.aws && local.create_bucket ? 1 : 0

  bucket        = var.storage_bucket
  force_destroy = false
  region        = var.region == "" ? null : var.region
  tags          = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.aws && local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  region = var.region == "" ? null : var.region

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.storage_kms_key_id == "" ? "AES256" : "aws:kms"
      kms_master_key_id = var.storage_kms_key_id == "" ? null : var.storage_kms_key_id
    }
    bucket_key_enabled = var.storage_kms_key_id != ""
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.aws && local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  region = var.region == "" ? null : var.region

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.aws && local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  region                  = var.region == "" ? null : var.region
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "google_storage_project_service_account" "this" {
  count = local.gcp && local.create_bucket && var.storage_kms_key_id != "" ? 1 : 0
}

# Cloud Storage encrypts with the key through its own service agent, which needs the key first.
resource "google_kms_crypto_key_iam_member" "storage_agent" {
  count = local.gcp && local.create_bucket && var.storage_kms_key_id != "" ? 1 : 0

  crypto_key_id = var.storage_kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.this[0].email_address}"
}

resource "google_storage_bucket" "this" {
  # checkov:skip=CKV_GCP_62: access logs are an organisation-level sink (Cloud Audit Logs), not configured per job
  count = local.gcp && local.create_bucket ? 1 : 0

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

resource "azurerm_storage_container" "this" {
  # checkov:skip=CKV2_AZURE_21: blob read logging is a diagnostic setting of the storage account, which the job does not own
  count = local.azure && local.create_bucket ? 1 : 0

  name                  = local.storage_container
  storage_account_id    = data.azurerm_storage_account.this[0].id
  container_access_type = "private"

  lifecycle {
    prevent_destroy = true
  }
}
