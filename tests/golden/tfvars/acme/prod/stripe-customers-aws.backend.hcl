# terraform init -backend-config=<this file>; from jobs/acme/stripe_customers_aws.yaml
bucket         = "acme-terraform-state"
dynamodb_table = "terraform-state-lock"
key            = "dativo/acme/prod/stripe-customers-aws.tfstate"
region         = "us-east-1"
