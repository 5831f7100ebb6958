# The AWS side of a Dativo job on EKS (IRSA): an IAM role that only the job's Kubernetes service account
# can assume through the cluster's OIDC issuer, its storage access limited to the job's prefix and the
# bucket when the job creates it (both through aws-job-storage, as in aws-ecs-job). Its outputs bind the service account and the
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

# the role's storage policy, and the bucket when the job creates it
module "storage" {
  source = "../aws-job-storage"

  name_prefix           = var.name_prefix
  region                = var.region
  role_name             = aws_iam_role.this.name
  storage_bucket        = var.storage_bucket
  storage_create_bucket = local.create_bucket
  storage_kms_key_id    = var.storage_kms_key_id
  storage_prefix        = var.storage_prefix
  tags                  = var.tags
}
