# Before 1.0.0 the storage resources were declared here; they are now azure-job-storage's (module
# "storage"). These blocks move existing state there: the next plan shows moves, not replacements
# (a created container, protected from destroy, would otherwise stop the plan). For a new job they do nothing.

moved {
  from = azurerm_role_assignment.storage
  to   = module.storage.azurerm_role_assignment.this
}

moved {
  from = azurerm_storage_container.this
  to   = module.storage.azurerm_storage_container.this
}
