# The storage side of a Dativo job on Azure, shared by azure-container-apps-job and
# kubernetes-identity-azure: Storage Blob Data Contributor for the job's identity on its blob
# container, limited to its prefix by an ABAC condition, and the container itself when the job creates
# it (private, protected from destroy). The Pulumi components share the same code:
# dativo_infra/components/azure_roles.py (grant_container, create_container).

data "azurerm_storage_account" "this" {
  count = var.storage_account == "" ? 0 : 1

  name                = var.storage_account
  resource_group_name = var.storage_resource_group
}

resource "azurerm_role_assignment" "this" {
  count = var.storage_account == "" ? 0 : 1

  scope                = "${data.azurerm_storage_account.this[0].id}/blobServices/default/containers/${var.storage_container}"
  name                 = local.role_assignment_name
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = var.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): blobs under its prefix only"
  condition            = local.abac_condition
  condition_version    = local.abac_condition == null ? null : "2.0"

  depends_on = [azurerm_storage_container.this]
}

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
