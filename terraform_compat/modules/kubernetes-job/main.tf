# One Dativo job on Kubernetes (EKS, GKE, AKS or any other cluster): the namespace when asked for, a
# service account carrying the workload identity binding it is given (service_account_annotations,
# pod_labels: the outputs of a kubernetes-identity-<cloud> module), a NetworkPolicy denying all
# ingress to the job's pods, and a CronJob. Only the kubernetes provider: the cloud side is the
# identity module's. With the identity module of its cloud, the same resources as the Pulumi
# component dativo:kubernetes:Job (docs/parity.md).

locals {
  namespace = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name   = var.namespace
    labels = var.labels
  }
}

resource "kubernetes_service_account_v1" "this" {
  metadata {
    name        = local.service_account_name
    namespace   = local.namespace
    labels      = var.labels
    annotations = var.service_account_annotations
  }

  # workload identity projects its own token; the Kubernetes API token is not needed
  automount_service_account_token = false
}

resource "kubernetes_network_policy_v1" "this" {
  metadata {
    name      = "${var.name_prefix}-deny-ingress"
    namespace = local.namespace
    labels    = var.labels
  }

  spec {
    pod_selector {
      match_labels = local.pod_selector
    }

    # Ingress listed with no ingress rule: nothing may connect to the job's pods
    policy_types = ["Ingress"]
  }
}

resource "kubernetes_cron_job_v1" "this" {
  metadata {
    name      = var.name_prefix
    namespace = local.namespace
    labels    = var.labels
  }

  spec {
    schedule                      = local.cron_schedule
    timezone                      = var.schedule_timezone
    suspend                       = !local.scheduled
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 3
    failed_jobs_history_limit     = 3

    job_template {
      metadata {
        labels = var.labels
      }

      spec {
        backoff_limit           = var.max_retries
        active_deadline_seconds = var.max_runtime_seconds

        template {
          metadata {
            labels = local.pod_labels
          }

          spec {
            service_account_name            = kubernetes_service_account_v1.this.metadata[0].name
            automount_service_account_token = false
            restart_policy                  = "Never"

            # a UID, not just runAsNonRoot: the kubelet refuses runAsNonRoot for an image whose USER is root or a name;
            # fs_group makes the projected workload-identity token (IRSA, AKS) readable by that user
            security_context {
              fs_group        = 10001
              run_as_non_root = true
              run_as_user     = 10001
              run_as_group    = 10001

              seccomp_profile {
                type = "RuntimeDefault"
              }
            }

            container {
              name              = var.container_name
              image             = var.image
              image_pull_policy = "Always"
              command           = var.command

              resources {
                requests = {
                  cpu    = var.request_cpu
                  memory = var.request_memory
                }
                limits = {
                  cpu    = var.limit_cpu
                  memory = var.limit_memory
                }
              }

              security_context {
                allow_privilege_escalation = false
                privileged                 = false
                read_only_root_filesystem  = true
                run_as_non_root            = true

                capabilities {
                  drop = ["ALL"]
                }

                seccomp_profile {
                  type = "RuntimeDefault"
                }
              }

              # the root filesystem is read-only: the runner's staging files and caches go to /tmp
              env {
                name  = "HOME"
                value = "/tmp"
              }
              env {
                name  = "TMPDIR"
                value = "/tmp"
              }
              volume_mount {
                name       = "scratch"
                mount_path = "/tmp"
              }
            }

            volume {
              name = "scratch"
              empty_dir {}
            }
          }
        }
      }
    }
  }
}
