"""schemas/job-config.schema.json: generated from the models, current, and true to the example jobs."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from dativo_infra import schema
from dativo_infra.jobs import discover

from .conftest import JOBS, ROOT

SCHEMA_FILE = ROOT / schema.SCHEMA_PATH
EXAMPLES = discover([str(JOBS)])
PREFIX = "# yaml-language-server: $schema="


def validator() -> jsonschema.Draft202012Validator:
    document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def test_committed_schema_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema.render(), "schemas/job-config.schema.json is stale: run make schema"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.split("jobs/", 1)[1])
def test_example_validates_against_the_schema(path):
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(yaml.safe_load(open(path, encoding="utf-8")))]
    assert errors == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.split("jobs/", 1)[1])
def test_example_starts_with_the_schema_comment(path):
    first = open(path, encoding="utf-8").readline()
    assert first.startswith(PREFIX), f"{path} must start with: {PREFIX}<relative path of the schema>"
    # the relative path points at the schema from the file's own folder, so editors find it
    assert (Path(path).parent / first[len(PREFIX):].strip()).resolve() == SCHEMA_FILE.resolve()


def test_reference_jobs_validate_against_the_schema(reference_jobs):
    v = validator()
    for path in sorted((reference_jobs / "jobs").glob("*.yaml")):
        assert list(v.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == [], path


@pytest.mark.parametrize("document,valid", [
    ({"tenant_id": "acme", "environment": "prod", "runner_only_key": {"anything": 1}}, True),  # the ETL runner's keys are kept
    ({"tenant_id": "acme", "environment": "prod", "infrastructure": {"provider": "aws", "runtime": {"type": "ecs", "cluster_nmae": "x"}}}, False),
    ({"tenant_id": "acme", "environment": "prod", "infrastructure": {"provider": "ibm", "runtime": {"type": "ecs"}}}, False),
    ({"tenant_id": "acme", "environment": "prod", "infrastructure": {"provider": "aws", "runtime": {"type": "ecs", "schedule": "0 2 * * *"}}}, True),
    ({"tenant_id": "acme", "environment": "prod", "infrastructure": {"provider": "aws", "runtime": {"type": "ecs"}, "tags": {"Shared": True}}}, True),
    ({"tenant_id": "acme", "environment": "prod", "infrastructure": {"provider": "aws", "runtime": {"type": "ecs"}, "tags": ["a"]}}, False),
    ({"tenant_id": "acme", "environment": "prod", "finops": {"business_tags": "one"}}, True),
    ({"environment": "prod"}, False),
])
def test_schema_agrees_with_the_models_on_shape(document, valid):
    assert validator().is_valid(document) is valid
    from pydantic import ValidationError

    from dativo_infra.jobs.models import JobConfig

    try:
        JobConfig.model_validate(document)
        model_valid = True
    except ValidationError:
        model_valid = False
    assert model_valid is valid
