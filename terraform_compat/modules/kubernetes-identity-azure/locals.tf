# Values computed from the variables alone (no provider, no data source), so that
# tests/test_tf_contract.py can evaluate them with `terraform console`.

locals {
  # the service account kubernetes-job creates (the same rule), the one subject the federated credential trusts
  service_account_name = var.service_account != "" ? var.service_account : var.name_prefix
  subject              = "system:serviceaccount:${var.namespace}:${local.service_account_name}"

  create_bucket  = var.storage_create_bucket && var.storage_bucket != ""
  storage_prefix = trim(var.storage_prefix, "/")

  # storage_bucket is account/container; the ABAC condition is azure-container-apps-job's
  storage_account     = var.storage_bucket != "" ? split("/", var.storage_bucket)[0] : ""
  storage_container   = var.storage_bucket != "" ? split("/", var.storage_bucket)[1] : ""
  container_attribute = "Microsoft.Storage/storageAccounts/blobServices/containers"
  blob_action         = "${local.container_attribute}/blobs"
  abac_condition = local.storage_prefix == "" ? null : join("\n", [
    "(",
    " (",
    "  !(ActionMatches{'${local.blob_action}/read'} AND NOT SubOperationMatches{'Blob.List'})",
    "  AND !(ActionMatches{'${local.blob_action}/write'})",
    "  AND !(ActionMatches{'${local.blob_action}/add/action'})",
    "  AND !(ActionMatches{'${local.blob_action}/delete'})",
    "  AND !(ActionMatches{'${local.blob_action}/move/action'})",
    " )",
    " OR",
    " (",
    "  @Resource[${local.container_attribute}:name] StringEquals '${local.storage_container}'",
    "  AND @Resource[${local.blob_action}:path] StringStartsWith '${local.storage_prefix}/'",
    " )",
    ")",
    "AND",
    "(",
    " (",
    "  !(ActionMatches{'${local.blob_action}/read'} AND SubOperationMatches{'Blob.List'})",
    " )",
    " OR",
    " (",
    "  @Resource[${local.container_attribute}:name] StringEquals '${local.storage_container}'",
    "  AND @Request[${local.blob_action}:prefix] StringStartsWith '${local.storage_prefix}/'",
    " )",
    ")",
  ])

  # the role assignment's name is a GUID derived from the job and its container, as the Pulumi component
  # derives it (dativo_infra/components/azure_roles.py): the same assignment on every run, from either tool
  role_definition_id   = "ba92f5b4-2d11-453d-a403-e96b0029c9fe" # Storage Blob Data Contributor
  role_assignment_name = uuidv5("url", "dativo:${var.name_prefix}:${local.storage_account}/${local.storage_container}:${local.role_definition_id}")
}
