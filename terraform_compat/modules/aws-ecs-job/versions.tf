terraform {
  # 1.9: variable validation may refer to other variables (Fargate CPU/memory pairs)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.0: the per-resource `region` argument and data.aws_region.region
      version = ">= 6.0, < 7.0"
    }
  }
}
