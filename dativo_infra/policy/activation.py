"""What to do so that a fleet's tag keys show up in each cloud's billing data.

- **AWS**: user-defined tags count in Cost Explorer and the cost and usage reports only once each
  key is *activated* as a cost allocation tag: ``aws ce update-cost-allocation-tags-status``
  (Cost Explorer API ``UpdateCostAllocationTagsStatus``) takes at most 20 keys per call, so the
  keys are split into batches of 20. A key can be activated only after it has appeared on a
  resource; activation can take up to 24 hours to show.
- **GCP**: resource labels flow into the Cloud Billing export to BigQuery (the ``labels`` column)
  without any activation; the export itself has to be enabled on the billing account.
- **Azure**: resource tags appear in Cost Management usage records of the resources that carry
  them; the *tag inheritance* setting (off by default) also applies resource group and subscription
  tags to the usage records of their child resources.

Kubernetes labels are not cloud tags: a fleet's ``kubernetes`` keys are listed, with no cloud step.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

AWS_BATCH = 20  # UpdateCostAllocationTagsStatus: 1 to 20 entries per request
AWS_DOC = "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html"
AWS_API_DOC = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_UpdateCostAllocationTagsStatus.html"
GCP_DOC = "https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables"
AZURE_DOC = "https://learn.microsoft.com/azure/cost-management-billing/costs/enable-tag-inheritance"
PROVIDERS = ("aws", "gcp", "azure")


def _batches(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i:i + size] for i in range(0, len(keys), size)]


def activation(tag_keys_by_cloud: Mapping[str, Iterable[str]], provider: str) -> dict[str, Any]:
    """The keys a fleet uses in ``provider``'s format, and the steps that make them count in its billing data.

    ``tag_keys_by_cloud``: cloud (aws, gcp, azure, kubernetes) → the formatted tag keys the fleet's
    jobs put on resources (e.g. the keys of each job's TagSet per cloud).
    """
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    keys = sorted(set(tag_keys_by_cloud.get(provider, ())))
    kubernetes = sorted(set(tag_keys_by_cloud.get("kubernetes", ())))
    out: dict[str, Any] = {"provider": provider, "keys": keys, "kubernetes_labels": kubernetes}
    if provider == "aws":
        requests = [{"CostAllocationTagsStatus": [{"TagKey": k, "Status": "Active"} for k in batch]}
                    for batch in _batches(keys, AWS_BATCH)]
        out.update(
            activation_required=True,
            requests=requests,
            commands=["aws ce update-cost-allocation-tags-status --cli-input-json " + shlex.quote(json.dumps(r, separators=(",", ":")))
                      for r in requests],
            steps=[
                f"Activate the {len(keys)} keys as user-defined cost allocation tags in the management (payer) account, "
                f"{AWS_BATCH} per call: run each command below (the API takes 1 to {AWS_BATCH} keys per request).",
                "A key can be activated only once it has appeared on a resource; keys the API cannot activate yet come "
                "back in the response's Errors list: run the command again for them later.",
                "Activation can take up to 24 hours to show in Cost Explorer and the cost and usage reports; "
                "costs from before activation are not tagged.",
            ],
            docs=[AWS_DOC, AWS_API_DOC],
        )
    elif provider == "gcp":
        out.update(
            activation_required=False,
            requests=[],
            commands=[],
            steps=[
                "Nothing to activate: resource labels flow into the Cloud Billing export to BigQuery (its labels column) as they are.",
                "Enable the Cloud Billing export to BigQuery on the billing account (Billing > Billing export > BigQuery export) "
                "if it is not on yet; data is exported from the day it is enabled.",
            ],
            docs=[GCP_DOC],
        )
    else:
        out.update(
            activation_required=False,
            requests=[],
            commands=[],
            steps=[
                "Resource tags appear in Cost Management usage records of the resources that carry them; nothing to activate for them.",
                "To also charge untagged child resources by their resource group's and subscription's tags, enable tag inheritance "
                "(off by default): Cost Management > (scope: EA billing account, MCA billing profile or subscription) > Settings > "
                "Configuration > Tag inheritance > Edit > 'Automatically apply subscription and resource group tags to new data'.",
                "Inherited tags apply to usage records, not to the resources themselves; the setting applies to new data.",
            ],
            docs=[AZURE_DOC],
        )
    if kubernetes:
        out["steps"].append(f"{len(kubernetes)} Kubernetes label keys are not cloud tags: they do not reach {provider}'s "
                            "billing data through these steps.")
    return out


def render_activation(result: Mapping[str, Any]) -> str:
    """Text for :func:`activation`: the keys, the steps, the commands, the links."""
    lines = [f"{result['provider']}: {len(result['keys'])} tag keys used by the fleet"]
    lines += [f"  {k}" for k in result["keys"]]
    lines.append("What to do:")
    lines += [f"  - {s}" for s in result["steps"]]
    for n, command in enumerate(result["commands"], 1):
        lines.append(f"  batch {n}/{len(result['commands'])}: {command}")
    lines += [f"  see {d}" for d in result["docs"]]
    return "\n".join(lines)
