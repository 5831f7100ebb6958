# One Dativo job on Azure Container Apps jobs: a user-assigned identity allowed onto its blob
# prefix only (Storage Blob Data Contributor on the container, with an ABAC condition), the
# Container Apps job in an existing managed environment and, when asked for, the blob container
# (the storage side through azure-job-storage).
# The same resources as the Pulumi component dativo:azure:ContainerAppsJob (docs/parity.md).

data "azurerm_container_app_environment" "this" {
  name                = var.environment_name
  resource_group_name = var.resource_group
}

# an identity named by service_account: /subscriptions/S/resourceGroups/RG/providers/.../userAssignedIdentities/NAME
data "azurerm_user_assigned_identity" "given" {
  count = var.service_account == "" ? 0 : 1

  name                = split("/", var.service_account)[8]
  resource_group_name = split("/", var.service_account)[4]
}

locals {
  create_identity       = var.service_account == ""
  identity_id           = local.create_identity ? azurerm_user_assigned_identity.this[0].id : var.service_account
  identity_principal_id = local.create_identity ? azurerm_user_assigned_identity.this[0].principal_id : data.azurerm_user_assigned_identity.given[0].principal_id
  identity_client_id    = local.create_identity ? azurerm_user_assigned_identity.this[0].client_id : data.azurerm_user_assigned_identity.given[0].client_id
  location              = data.azurerm_container_app_environment.this.location
}

# --- identity and storage access -----------------------------------------------------------------

resource "azurerm_user_assigned_identity" "this" {
  count = local.create_identity ? 1 : 0

  name                = "${var.name_prefix}-id"
  location            = var.region == "" ? local.location : var.region
  resource_group_name = var.resource_group
  tags                = var.tags
}

# the identity's access to its blob prefix, and the container when the job creates it
module "storage" {
  source = "../azure-job-storage"

  environment            = var.environment
  job_name               = var.job_name
  name_prefix            = var.name_prefix
  principal_id           = local.identity_principal_id
  storage_account        = var.storage_account
  storage_container      = var.storage_container
  storage_create_bucket  = var.storage_create_bucket
  storage_prefix         = var.storage_prefix
  storage_resource_group = local.storage_resource_group
  tenant_id              = var.tenant_id
}

# --- the job ---------------------------------------------------------------------------------------

resource "azurerm_container_app_job" "this" {
  name                         = var.name_prefix
  location                     = var.region == "" ? local.location : var.region # the job's (or its stack's) region, as in Pulumi
  resource_group_name          = var.resource_group
  container_app_environment_id = data.azurerm_container_app_environment.this.id
  replica_timeout_in_seconds   = var.max_runtime_seconds
  replica_retry_limit          = var.max_retries
  tags                         = var.tags

  dynamic "schedule_trigger_config" {
    for_each = local.scheduled ? [1] : []
    content {
      cron_expression          = var.schedule_cron
      parallelism              = 1
      replica_completion_count = 1
    }
  }

  dynamic "manual_trigger_config" {
    for_each = local.scheduled ? [] : [1]
    content {
      parallelism              = 1
      replica_completion_count = 1
    }
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [local.identity_id]
  }

  template {
    container {
      name    = var.container_name
      image   = var.image
      command = var.command
      cpu     = var.cpu_cores
      memory  = local.memory

      # DefaultAzureCredential picks the user-assigned identity by its client ID
      env {
        name  = "AZURE_CLIENT_ID"
        value = local.identity_client_id
      }
    }
  }

  # the first execution must find its access in place
  depends_on = [module.storage]
}
