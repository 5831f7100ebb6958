# State written by the former single kubernetes-job module (examples/kubernetes-job, which created the
# cloud identity in module "job" with count) moves to module "identity": the next plan shows moves,
# not replacements (a created bucket, protected from destroy, would otherwise stop the plan). For a
# new job these blocks do nothing.

moved {
  from = module.job.aws_iam_role.this[0]
  to   = module.identity.aws_iam_role.this
}

moved {
  from = module.job.aws_iam_role_policy.this
  to   = module.identity.aws_iam_role_policy.this
}

moved {
  from = module.job.aws_s3_bucket.this
  to   = module.identity.aws_s3_bucket.this
}

moved {
  from = module.job.aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.identity.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = module.job.aws_s3_bucket_versioning.this
  to   = module.identity.aws_s3_bucket_versioning.this
}

moved {
  from = module.job.aws_s3_bucket_public_access_block.this
  to   = module.identity.aws_s3_bucket_public_access_block.this
}
