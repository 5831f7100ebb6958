# Generated from terraform_compat/versions.json by `python -m terraform_compat.pins`: edit that file, not this one.
terraform {
  # 1.9: variable validation may refer to other variables (Fargate CPU/memory pairs, storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.0: deletion_protection on google_cloud_run_v2_job; the 7.0 and 8.0 upgrade guides change nothing these modules use
      version = ">= 6.0, < 9.0"
    }
  }
}
