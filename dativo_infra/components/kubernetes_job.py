"""``dativo:kubernetes:Job``: one Dativo job as a Kubernetes CronJob on EKS, GKE or AKS.

Kubernetes specs are plain dicts in the Kubernetes API's own (camelCase)
spelling, so the tag transformation can reach ``metadata.labels`` and the pod
template's labels, and so that what the plan records reads like a manifest.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Union

import pulumi_kubernetes as k8s

from ..tags.formats import kubernetes_key
from .args import KubernetesArgs, fields_of
from .base import JobComponent
from .workload_identity import IDENTITIES

DAGSTER_K8S_CONFIG = "dagster-k8s/config"  # the run tag Dagster's K8sRunLauncher reads
# an unscheduled job is a suspended CronJob: a template for `kubectl create job --from=cronjob/NAME` and for Dagster
UNSCHEDULED = "0 0 1 1 *"
# the labels that pick the job's pods, also those Dagster launches (their labels come from the dagster-k8s/config tag)
SELECTOR_KEYS = tuple(kubernetes_key(k) for k in ("dativo:tenant", "dativo:environment", "dativo:job"))
# the kubelet refuses runAsNonRoot for an image whose USER is root or a name: a numeric UID works with any image;
# fsGroup makes the projected workload-identity token (IRSA, AKS) readable by that non-root user
UNPRIVILEGED_ID = 10001
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": UNPRIVILEGED_ID, "runAsGroup": UNPRIVILEGED_ID, "fsGroup": UNPRIVILEGED_ID,
                "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "privileged": False,
                      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
# the root filesystem is read-only: the runner's staging files and caches go to an emptyDir
SCRATCH = "/tmp"


def resources(a: KubernetesArgs) -> dict:
    return {"requests": {"cpu": a.request_cpu, "memory": a.request_memory},
            "limits": {"cpu": a.limit_cpu, "memory": a.limit_memory}}


def pod_selector(a: KubernetesArgs) -> dict:
    return {key: a.labels[key] for key in SELECTOR_KEYS if key in a.labels}


def cron_job_spec(a: KubernetesArgs, service_account: str, pod_labels: Mapping[str, str]) -> dict:
    container = {
        "name": a.container_name,
        "image": a.image,
        "imagePullPolicy": "Always",  # a runner tag such as :latest moves: every run starts the image it names now
        "command": a.command,
        "resources": resources(a),
        "securityContext": CONTAINER_SECURITY,
        "env": [{"name": "HOME", "value": SCRATCH}, {"name": "TMPDIR", "value": SCRATCH}],
        "volumeMounts": [{"name": "scratch", "mountPath": SCRATCH}],
    }
    pod = {
        "serviceAccountName": service_account,
        # the runner never calls the Kubernetes API; the workload-identity token is a separate projected volume
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",  # a failed run is retried as a new pod, counted by backoffLimit
        "securityContext": POD_SECURITY,
        "containers": [container],
        "volumes": [{"name": "scratch", "emptyDir": {}}],
    }
    return {
        "schedule": a.schedule_cron or UNSCHEDULED,
        "timeZone": a.schedule_timezone,
        "suspend": not a.schedule_cron,
        "concurrencyPolicy": "Forbid",  # two runs of one job would write the same table at once
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,  # Kubernetes keeps 1 by default: keep as many failed runs as good ones, to read their logs
        "jobTemplate": {"spec": {
            "backoffLimit": a.max_retries,
            "activeDeadlineSeconds": a.max_runtime_seconds,
            "template": {"metadata": {"labels": dict(pod_labels)}, "spec": pod},
        }},
    }


def dagster_k8s_config(args: Union[KubernetesArgs, Mapping[str, Any]], service_account: str, pod_labels: Mapping[str, str]) -> dict:
    """The ``dagster-k8s/config`` tag value: what Dagster-launched runs of this job need to match the CronJob.

    ``args``: the job's, or its variables by name (the Terraform export's, to compare with the module's value).
    """
    a = fields_of(args, KubernetesArgs)
    return {
        "container_config": {"resources": resources(a)},
        "pod_spec_config": {"service_account_name": service_account},
        "pod_template_spec_metadata": {"labels": {**a.labels, **pod_labels}},
        "job_spec_config": {"active_deadline_seconds": a.max_runtime_seconds},
    }


def dagster_k8s_tag(config: Mapping[str, Any]) -> str:
    """The tag's JSON text, written exactly as Terraform's ``jsonencode`` writes it (sorted keys, no spaces)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


class KubernetesJob(JobComponent[KubernetesArgs]):
    TYPE = "dativo:kubernetes:Job"
    ARGS = KubernetesArgs

    def build(self, a: KubernetesArgs) -> dict[str, Any]:
        prefix, namespace = a.name_prefix, a.namespace
        service_account = a.service_account or prefix

        after_namespace: list = []
        if a.create_namespace:
            after_namespace.append(k8s.core.v1.Namespace(*self.child("namespace"), metadata={"name": namespace}))

        cloud = IDENTITIES[a.cloud_provider](self, a, namespace, service_account)
        account = k8s.core.v1.ServiceAccount(
            *self.child("service-account", depends_on=after_namespace),
            metadata={"name": service_account, "namespace": namespace, "annotations": cloud.annotations},
            automount_service_account_token=False)  # pods that need the API token (Dagster's) ask for it themselves
        # no ingress rule: nothing may connect to the job's pods (the runner only makes outbound calls)
        k8s.networking.v1.NetworkPolicy(
            *self.child("deny-ingress", depends_on=after_namespace),
            metadata={"name": f"{prefix}-deny-ingress", "namespace": namespace},
            spec={"podSelector": {"matchLabels": pod_selector(a)}, "policyTypes": ["Ingress"]})
        k8s.batch.v1.CronJob(
            *self.child("cronjob", depends_on=[*after_namespace, account]),
            metadata={"name": prefix, "namespace": namespace},
            spec=cron_job_spec(a, service_account, cloud.pod_labels))

        config = dagster_k8s_config(a, service_account, cloud.pod_labels)
        return {
            "cluster_name": a.cluster_name,
            "namespace": namespace,
            "service_account_name": service_account,
            "cron_job_name": prefix,
            "network_policy_name": f"{prefix}-deny-ingress",
            "cloud_identity": cloud.identity,
            "scheduled": bool(a.schedule_cron),
            "labels": a.labels,
            "tags": a.tags,
            # Dagster's K8sRunLauncher: run tags (a JSON string each) and the namespace to launch in
            "dagster": {
                "namespace": namespace,
                "run_tags": {DAGSTER_K8S_CONFIG: dagster_k8s_tag(config)},
                "retry_policy": {"max_retries": a.max_retries, "delay": a.retry_delay_seconds},
            },
        }
