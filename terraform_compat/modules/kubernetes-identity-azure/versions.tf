terraform {
  # 1.9: variable validation may refer to other variables (storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.9: storage_account_id on azurerm_storage_container
      version = ">= 4.9, < 5.0"
    }
  }
}
