# Generated from terraform_compat/versions.json by `python -m terraform_compat.pins`: edit that file, not this one.
terraform {
  # 1.9: variable validation may refer to other variables (Fargate CPU/memory pairs, storage_create_bucket needs storage_bucket)
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.65: user_assigned_identity_id on azurerm_federated_identity_credential (parent_id is removed in 5.0); 4.9: storage_account_id on azurerm_storage_container; the 5.0 upgrade guide changes nothing else these modules use
      version = ">= 4.65, < 6.0"
    }
  }
}
