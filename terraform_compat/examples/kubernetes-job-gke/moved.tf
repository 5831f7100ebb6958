# State written by the former single kubernetes-job module (examples/kubernetes-job, which created the
# cloud identity in module "job" with count) moves to module "identity": the next plan shows moves,
# not replacements (a created bucket, protected from destroy, would otherwise stop the plan). For a
# new job these blocks do nothing.

moved {
  from = module.job.google_service_account.this[0]
  to   = module.identity.google_service_account.this
}

moved {
  from = module.job.google_service_account_iam_member.workload_identity[0]
  to   = module.identity.google_service_account_iam_member.workload_identity
}

moved {
  from = module.job.google_storage_bucket_iam_member.objects
  to   = module.identity.google_storage_bucket_iam_member.objects
}

moved {
  from = module.job.google_storage_bucket_iam_member.list
  to   = module.identity.google_storage_bucket_iam_member.list
}

moved {
  from = module.job.google_kms_crypto_key_iam_member.this
  to   = module.identity.google_kms_crypto_key_iam_member.this
}

moved {
  from = module.job.google_kms_crypto_key_iam_member.storage_agent
  to   = module.identity.google_kms_crypto_key_iam_member.storage_agent
}

moved {
  from = module.job.google_storage_bucket.this
  to   = module.identity.google_storage_bucket.this
}
