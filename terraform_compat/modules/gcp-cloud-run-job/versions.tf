terraform {
  # 1.9: variable validation may refer to other variables (Cloud Run CPU for a memory size)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.0: deletion_protection on google_cloud_run_v2_job
      version = ">= 6.0, < 8.0"
    }
  }
}
