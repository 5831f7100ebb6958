# terraform init -backend-config=<this file>; from jobs/acme/stripe_customers_gcp.yaml
bucket = "acme-terraform-state"
prefix = "dativo/acme/prod/stripe-customers-gcp"
