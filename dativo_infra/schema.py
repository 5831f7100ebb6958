"""JSON Schema of job files, generated from the models (``make schema`` writes schemas/job-config.schema.json)."""
from __future__ import annotations

import json

from .jobs.models import JobConfig

SCHEMA_PATH = "schemas/job-config.schema.json"


def job_schema() -> dict:
    schema = JobConfig.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dativo.io/schemas/job-config.schema.json",
        "title": "Dativo job file",
        "description": "A Dativo ETL job with its infrastructure block. Generated from dativo_infra.jobs.models; do not edit.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render() -> str:
    return json.dumps(job_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
