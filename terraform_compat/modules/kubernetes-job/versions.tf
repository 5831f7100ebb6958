terraform {
  # the range of the identity modules it is used with (their validations refer to other variables: 1.9)
  required_version = ">= 1.9, < 2.0"

  # Only Kubernetes: the cloud identity is a kubernetes-identity-<cloud> module, so a root
  # configuration names the provider of its own cloud and no other.
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30, < 3.0"
    }
  }
}
