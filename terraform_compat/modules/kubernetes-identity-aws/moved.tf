# Before 1.0.0 the storage resources were declared here; they are now aws-job-storage's (module
# "storage"). These blocks move existing state there: the next plan shows moves, not replacements
# (a created bucket, protected from destroy, would otherwise stop the plan). For a new job they do nothing.

moved {
  from = aws_iam_role_policy.this
  to   = module.storage.aws_iam_role_policy.this
}

moved {
  from = aws_s3_bucket.this
  to   = module.storage.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.storage.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.storage.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.storage.aws_s3_bucket_public_access_block.this
}
