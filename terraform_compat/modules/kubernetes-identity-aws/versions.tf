terraform {
  # 1.9: variable validation may refer to other variables (storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.0: the per-resource `region` argument (S3 bucket resources, data.aws_eks_cluster)
      version = ">= 6.0, < 7.0"
    }
  }
}
