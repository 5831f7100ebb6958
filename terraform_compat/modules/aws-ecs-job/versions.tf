# Generated from terraform_compat/versions.json by `python -m terraform_compat.pins`: edit that file, not this one.
terraform {
  # 1.9: variable validation may refer to other variables (Fargate CPU/memory pairs, storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.0: the per-resource region argument and data.aws_region.region; 6.x is the current major (no 7.0 upgrade guide published)
      version = ">= 6.0, < 7.0"
    }
  }
}
