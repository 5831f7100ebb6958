# The AWS side of a Dativo job on EKS (IRSA): an IAM role that only the job's Kubernetes service account
# can assume through the cluster's OIDC issuer, its storage access limited to the job's prefix (as in
# aws-ecs-job), and the bucket when the job creates it. Its outputs bind the service account and the
# pods of kubernetes-job to the role. With kubernetes-job, the same resources as the Pulumi component
# dativo:kubernetes:Job on aws (docs/parity.md).

data "aws_eks_cluster" "this" {
  name   = var.cluster_name
  region = var.region == "" ? null : var.region
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  aws_partition   = data.aws_partition.current.partition
  aws_oidc_issuer = trimprefix(data.aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")
}

data "aws_iam_policy_document" "irsa_trust" {
  statement {
    sid     = "ThisServiceAccountOnly"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = ["arn:${local.aws_partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.aws_oidc_issuer}"]
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
  name               = "${var.name_prefix}-k8s"
  description        = "IRSA role of Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): its storage prefix only"
  assume_role_policy = data.aws_iam_policy_document.irsa_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "storage" {
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
      sid       = "ListPrefixOnly"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.aws_partition}:s3:::${var.storage_bucket}"]

      dynamic "condition" {
        for_each = local.storage_prefix == "" ? [] : [1]
        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = ["${local.storage_prefix}/", "${local.storage_prefix}/*"] # never the bare prefix: "acme" would list "acme-eu/..."
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.storage_kms_key_id == "" ? [] : [1]
    content {
      sid       = "UseJobKey"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      resources = [var.storage_kms_key_id]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.storage_bucket != "" ? 1 : 0

  name   = "${var.name_prefix}-storage"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.storage.json
}

# --- the bucket, when this job owns it (aws-ecs-job's settings) ---------------------------------------

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: access logs go to an organisation-wide log bucket, configured outside a job
  # checkov:skip=CKV_AWS_144: cross-region replication is an organisation-level DR decision, not a job's
  # checkov:skip=CKV2_AWS_62: no consumer of bucket event notifications; Iceberg commits go through the catalog
  # checkov:skip=CKV2_AWS_61: no lifecycle rule: table files are expired by Iceberg snapshot expiry, a rule would corrupt tables
  # checkov:skip=CKV_AWS_145: SSE-KMS whenever the job names a key (storage_kms_key_id); SSE-S3 otherwise
  # checkov:skip=CKV_AWS_19: always encrypted by aws_s3_bucket_server_side_encryption_configuration.this; checkov cannot resolve its conditional algorithm
  count = local.create_bucket ? 1 : 0

  bucket        = var.storage_bucket
  force_destroy = false
  region        = var.region == "" ? null : var.region
  tags          = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create_bucket ? 1 : 0

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
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  region = var.region == "" ? null : var.region

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  region                  = var.region == "" ? null : var.region
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
