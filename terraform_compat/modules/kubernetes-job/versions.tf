# Generated from terraform_compat/versions.json by `python -m terraform_compat.pins`: edit that file, not this one.
terraform {
  # 1.9: variable validation may refer to other variables (Fargate CPU/memory pairs, storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    kubernetes = {
      source = "hashicorp/kubernetes"
      # 2.30: the _v1 resources these modules use; 3.0 only deprecates the unversioned names; 4.0 (beta) turns cron_job_v1 blocks into object arguments
      version = ">= 2.30, < 4.0"
    }
  }
}
