# One Dativo job on Azure Container Apps jobs: a user-assigned identity allowed onto its blob
# prefix only (Storage Blob Data Contributor on the container, with an ABAC condition), the
# Container Apps job in an existing managed environment and, when asked for, the blob container.
# The same resources as the Pulumi component dativo:azure:ContainerAppsJob (docs/parity.md).

data "azurerm_container_app_environment" "this" {
  name                = var.environment_name
  resource_group_name = var.resource_group
}

data "azurerm_storage_account" "this" {
  count = var.storage_account == "" ? 0 : 1

  name                = var.storage_account
  resource_group_name = local.storage_resource_group
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
  container_scope       = var.storage_account == "" ? null : "${data.azurerm_storage_account.this[0].id}/blobServices/default/containers/${var.storage_container}"
}

# --- identity and storage access -----------------------------------------------------------------

resource "azurerm_user_assigned_identity" "this" {
  count = local.create_identity ? 1 : 0

  name                = "${var.name_prefix}-id"
  location            = var.region == "" ? local.location : var.region
  resource_group_name = var.resource_group
  tags                = var.tags
}

resource "azurerm_role_assignment" "storage" {
  count = var.storage_account == "" ? 0 : 1

  scope                = local.container_scope
  name                 = local.role_assignment_name
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.identity_principal_id
  principal_type       = "ServicePrincipal"
  description          = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): blobs under its prefix only"
  condition            = local.abac_condition
  condition_version    = local.abac_condition == null ? null : "2.0"

  depends_on = [azurerm_storage_container.this]
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
  depends_on = [azurerm_role_assignment.storage]
}

# --- storage (only when this stack owns the container) -------------------------------------------

resource "azurerm_storage_container" "this" {
  # checkov:skip=CKV2_AZURE_21: blob read logging is a diagnostic setting of the storage account, which the job does not own
  count = var.storage_create_bucket ? 1 : 0

  name                  = var.storage_container
  storage_account_id    = data.azurerm_storage_account.this[0].id
  container_access_type = "private"

  lifecycle {
    prevent_destroy = true
  }
}
