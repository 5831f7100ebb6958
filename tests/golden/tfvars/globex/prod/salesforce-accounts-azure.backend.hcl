# terraform init -backend-config=<this file>; from jobs/globex/salesforce_accounts_azure.yaml
container_name       = "tfstate"
key                  = "dativo/globex/prod/salesforce-accounts.tfstate"
resource_group_name  = "rg-globex-tfstate"
storage_account_name = "globextfstate"
