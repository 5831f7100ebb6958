output "bucket_name" {
  description = "Name of the job's bucket (the created one, or the one it was given); empty without storage."
  value       = local.bucket_name
}

output "prefix_condition" {
  description = "The IAM condition limiting the object binding to the job's prefix (null: the whole bucket)."
  value       = local.prefix_condition
}
