terraform {
  # 1.9: variable validation may refer to other variables (a created bucket needs a region)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}
