"""JSON Schema of policy files, generated from the model: ``python -m dativo_infra.policy.schema > schemas/policy.schema.json``."""
from __future__ import annotations

from typing import Any

from ..schema import model_schema
from ..schema import render as render_schema
from .model import Policy

SCHEMA_PATH = "schemas/policy.schema.json"


def policy_schema() -> dict[str, Any]:
    return model_schema(Policy, "policy.schema.json", "Dativo tag policy",
                        "Rules on the tags of Dativo jobs (docs/policy.md). Generated from dativo_infra.policy.model; do not edit.")


def render() -> str:
    return render_schema(policy_schema())


if __name__ == "__main__":
    print(render(), end="")
