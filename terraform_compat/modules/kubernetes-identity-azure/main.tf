# The Azure side of a Dativo job on AKS (Workload Identity): a user-assigned identity federated with the
# AKS cluster's OIDC issuer for the job's Kubernetes service account only, its storage access limited
# to the job's prefix (the role assignment and ABAC condition of azure-container-apps-job), and the
# blob container when the job creates it. Its outputs bind the service account and the pods of
# kubernetes-job to the identity. With kubernetes-job, the same resources as the Pulumi component
# dativo:kubernetes:Job on azure (docs/parity.md).

data "azurerm_kubernetes_cluster" "this" {
  name                = var.cluster_name
  resource_group_name = var.resource_group
}

resource "azurerm_user_assigned_identity" "this" {
  name                = "${var.name_prefix}-id"
  location            = var.region == "" ? data.azurerm_kubernetes_cluster.this.location : var.region
  resource_group_name = var.resource_group
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "this" {
  name                = "${var.name_prefix}-k8s"
  resource_group_name = var.resource_group
  parent_id           = azurerm_user_assigned_identity.this.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = data.azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject             = local.subject
}

data "azurerm_storage_account" "this" {
  count = local.storage_account != "" ? 1 : 0

  name                = local.storage_account
  resource_group_name = var.storage_resource_group == "" ? var.resource_group : var.storage_resource_group
}

resource "azurerm_role_assignment" "this" {
  count = local.storage_account != "" ? 1 : 0

  scope                = "${data.azurerm_storage_account.this[0].id}/blobServices/default/containers/${local.storage_container}"
  name                 = local.role_assignment_name
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.this.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Dativo job ${var.job_name} (${var.tenant_id}/${var.environment}): blobs under its prefix only"
  condition            = local.abac_condition
  condition_version    = local.abac_condition == null ? null : "2.0"

  depends_on = [azurerm_storage_container.this]
}

# --- the blob container, when this job owns it (azure-container-apps-job's settings) ------------------

resource "azurerm_storage_container" "this" {
  # checkov:skip=CKV2_AZURE_21: blob read logging is a diagnostic setting of the storage account, which the job does not own
  count = local.create_bucket ? 1 : 0

  name                  = local.storage_container
  storage_account_id    = data.azurerm_storage_account.this[0].id
  container_access_type = "private"

  lifecycle {
    prevent_destroy = true
  }
}
