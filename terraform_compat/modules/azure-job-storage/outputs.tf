output "abac_condition" {
  description = "The ABAC condition limiting the role assignment to the job's prefix (null: the whole container)."
  value       = local.abac_condition
}

output "role_assignment_name" {
  description = "Name (a GUID derived from the job and its container, as the Pulumi component derives it) of the role assignment."
  value       = local.role_assignment_name
}
