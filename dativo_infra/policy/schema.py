"""JSON Schema of policy files, generated from the model: ``python -m dativo_infra.policy.schema > schemas/policy.schema.json``."""
from __future__ import annotations

import json
from typing import Any

from .model import Policy

SCHEMA_PATH = "schemas/policy.schema.json"


def policy_schema() -> dict[str, Any]:
    schema = Policy.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dativo.io/schemas/policy.schema.json",
        "title": "Dativo tag policy",
        "description": "Rules on the tags of Dativo jobs (docs/policy.md). Generated from dativo_infra.policy.model; do not edit.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def render() -> str:
    return json.dumps(policy_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
