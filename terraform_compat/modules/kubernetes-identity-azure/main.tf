# The Azure side of a Dativo job on AKS (Workload Identity): a user-assigned identity federated with the
# AKS cluster's OIDC issuer for the job's Kubernetes service account only, its storage access limited
# to the job's prefix and the blob container when the job creates it (both through azure-job-storage,
# as in azure-container-apps-job). Its outputs bind the service account and the pods of
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
  name                      = "${var.name_prefix}-k8s"
  user_assigned_identity_id = azurerm_user_assigned_identity.this.id # 4.65: was parent_id, removed in 5.0
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = data.azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject                   = local.subject
}

# the identity's access to its blob prefix, and the container when the job creates it
module "storage" {
  source = "../azure-job-storage"

  environment            = var.environment
  job_name               = var.job_name
  name_prefix            = var.name_prefix
  principal_id           = azurerm_user_assigned_identity.this.principal_id
  storage_account        = local.storage_account
  storage_container      = local.storage_container
  storage_create_bucket  = local.create_bucket
  storage_prefix         = var.storage_prefix
  storage_resource_group = var.storage_resource_group == "" ? var.resource_group : var.storage_resource_group
  tenant_id              = var.tenant_id
}
