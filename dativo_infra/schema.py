"""JSON Schema of job files, generated from the models (``make schema`` writes schemas/job-config.schema.json)."""
from __future__ import annotations

import json
from typing import Any, Optional

from pydantic import BaseModel

from .jobs.models import JobConfig

SCHEMA_PATH = "schemas/job-config.schema.json"


def model_schema(model: type[BaseModel], file: str, title: str, description: str) -> dict[str, Any]:
    """A model's JSON Schema (Draft 2020-12) as the files in schemas/ hold it: our id, title and description on top."""
    schema = model.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://dativo.io/schemas/{file}",
        "title": title,
        "description": description,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def job_schema() -> dict[str, Any]:
    return model_schema(JobConfig, "job-config.schema.json", "Dativo job file",
                        "A Dativo ETL job with its infrastructure block. Generated from dativo_infra.jobs.models; do not edit.")


def render(schema: Optional[dict[str, Any]] = None) -> str:
    return json.dumps(job_schema() if schema is None else schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
