# Before 1.0.0 the storage resources were declared here; they are now gcp-job-storage's (module
# "storage"). These blocks move existing state there: the next plan shows moves, not replacements
# (a created bucket, protected from destroy, would otherwise stop the plan). For a new job they do nothing.

moved {
  from = google_storage_bucket_iam_member.objects
  to   = module.storage.google_storage_bucket_iam_member.objects
}

moved {
  from = google_storage_bucket_iam_member.list
  to   = module.storage.google_storage_bucket_iam_member.list
}

moved {
  from = google_kms_crypto_key_iam_member.runner
  to   = module.storage.google_kms_crypto_key_iam_member.identity
}

moved {
  from = google_kms_crypto_key_iam_member.storage_agent
  to   = module.storage.google_kms_crypto_key_iam_member.storage_agent
}

moved {
  from = google_storage_bucket.this
  to   = module.storage.google_storage_bucket.this
}
