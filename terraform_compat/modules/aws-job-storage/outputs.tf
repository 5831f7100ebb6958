output "bucket_name" {
  description = "Name of the job's bucket (the created one, or the one it was given); empty without storage."
  value       = var.storage_create_bucket ? aws_s3_bucket.this[0].id : var.storage_bucket
}

output "policy_json" {
  description = "The storage policy document (JSON) attached to the role."
  value       = data.aws_iam_policy_document.this.json
}
