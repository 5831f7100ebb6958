# terraform init -backend-config=<this file>; from jobs/shared/stripe_customers_shared.yaml
bucket = "acme-terraform-state"
key    = "dativo/shared/globex/stripe-customers.tfstate"
region = "us-east-1"
