terraform {
  # 1.9: variable validation may refer to other variables (tag rules of cloud_provider)
  required_version = ">= 1.9, < 2.0"

  # The cloud side (workload identity, storage access) uses the provider of cloud_provider; the
  # others are declared because every resource names its provider, but create nothing (count = 0).
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30, < 3.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.9, < 5.0"
    }
  }
}
