# State written by the former single kubernetes-job module (examples/kubernetes-job, which created the
# cloud identity in module "job" with count) moves to module "identity": the next plan shows moves,
# not replacements (a created bucket, protected from destroy, would otherwise stop the plan). For a
# new job these blocks do nothing.

moved {
  from = module.job.azurerm_user_assigned_identity.this[0]
  to   = module.identity.azurerm_user_assigned_identity.this
}

moved {
  from = module.job.azurerm_federated_identity_credential.this[0]
  to   = module.identity.azurerm_federated_identity_credential.this
}

moved {
  from = module.job.azurerm_role_assignment.this
  to   = module.identity.azurerm_role_assignment.this
}

moved {
  from = module.job.azurerm_storage_container.this
  to   = module.identity.azurerm_storage_container.this
}
