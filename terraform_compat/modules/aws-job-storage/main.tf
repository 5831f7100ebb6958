# The storage side of a Dativo job on AWS, shared by aws-ecs-job and kubernetes-identity-aws: the
# least-privilege storage policy of the job's role (objects under its prefix, listing of that prefix
# only, the job's KMS key) and the bucket itself when the job creates it (encrypted, versioned,
# private, protected from destroy). The Pulumi components share the same code:
# dativo_infra/components/aws_iam.py (storage_access) and aws_storage.py (create_bucket).

data "aws_partition" "current" {}

locals {
  partition       = data.aws_partition.current.partition
  region_override = var.region == "" ? null : var.region
}

# --- the role's access ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "this" {
  dynamic "statement" {
    for_each = var.storage_bucket == "" ? [] : [1]
    content {
      sid       = "ObjectsUnderPrefix"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = ["arn:${local.partition}:s3:::${var.storage_bucket}/${local.object_path}"]
    }
  }

  dynamic "statement" {
    for_each = var.storage_bucket == "" ? [] : [1]
    content {
      sid       = "ListPrefixOnly"
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${var.storage_bucket}"]

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
  count = var.role_name != null && var.storage_bucket != "" ? 1 : 0

  name   = "${var.name_prefix}-storage"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this.json
}

# --- the bucket, when the job owns it -------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: access logs go to an organisation-wide log bucket, configured outside a job
  # checkov:skip=CKV_AWS_144: cross-region replication is an organisation-level DR decision, not a job's
  # checkov:skip=CKV2_AWS_62: no consumer of bucket event notifications; Iceberg commits go through the catalog
  # checkov:skip=CKV2_AWS_61: no lifecycle rule: table files are expired by Iceberg snapshot expiry, a rule would corrupt tables
  # checkov:skip=CKV_AWS_145: SSE-KMS whenever the job names a key (storage_kms_key_id); SSE-S3 otherwise
  # checkov:skip=CKV_AWS_19: always encrypted by aws_s3_bucket_server_side_encryption_configuration.this; checkov cannot resolve its conditional algorithm
  count = var.storage_create_bucket ? 1 : 0

  bucket        = var.storage_bucket
  force_destroy = false
  region        = local.region_override
  tags          = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.storage_create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  region = local.region_override

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.storage_kms_key_id == "" ? "AES256" : "aws:kms"
      kms_master_key_id = var.storage_kms_key_id == "" ? null : var.storage_kms_key_id
    }
    bucket_key_enabled = var.storage_kms_key_id != ""
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.storage_create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  region = local.region_override

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.storage_create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  region                  = local.region_override
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
