"""Tag coverage of the real offline plans of the example stacks (the Pulumi program under the SDK's mocks)."""
from __future__ import annotations

import pytest

from dativo_infra.plan import Plan, PlannedResource, sdk_class
from dativo_infra.policy import coverage, fleet_coverage, load_policy, parse_policy, render_coverage
from dativo_infra.tags.taggable import tag_input

from .conftest import ROOT
from .plans import plan

STACKS = [("acme", "prod"), ("globex", "prod"), ("globex", "staging")]
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yaml")


@pytest.fixture(scope="module")
def plans():
    return [plan(tenant, environment) for tenant, environment in STACKS]


@pytest.mark.parametrize("policy", [None, BASELINE], ids=["default keys", "baseline policy"])
def test_every_taggable_resource_of_the_examples_is_fully_tagged(plans, policy):
    loaded = load_policy(policy) if policy else None
    records = [coverage(p, loaded) for p in plans]
    for record in records:
        c = record["coverage"]
        assert c["taggable"] > 0 and c["fully_tagged"] == c["taggable"] and c["percent"] == 100.0, record["stack"]
        assert c["missing"] == []
    fleet = fleet_coverage(records)
    assert fleet["stacks"] == ["acme-prod", "globex-prod", "globex-staging"]
    assert fleet["coverage"]["taggable"] == sum(r["coverage"]["taggable"] for r in records)
    assert fleet["coverage"]["percent"] == 100.0
    assert len(fleet["coverage"]["untaggable"]) == sum(len(r["coverage"]["untaggable"]) for r in records) > 0


def test_taggable_is_what_the_sdk_class_says_and_the_transformation_did(plans):
    for p in plans:
        rows = {(r["resource"], r["type"]): r for r in coverage(p, None)["resources"]}
        for resource in p.resources:
            if not resource.custom:
                continue
            row = rows[(resource.name, resource.type)]
            assert row["taggable"] is (tag_input(sdk_class(resource.type)) is not None), resource.type
            if row["taggable"]:
                assert row["carries"] == row["required"] and row["required"], resource.name


def test_untaggable_resources_roll_up_to_their_job_resource(plans):
    acme = {u["resource"]: u for u in coverage(plans[0], None)["coverage"]["untaggable"]}
    assert acme["stripe-customers-aws-task-policy"] == {"resource": "stripe-customers-aws-task-policy", "type": "aws:iam/rolePolicy:RolePolicy",
                                                        "job": "stripe-customers-aws", "parent": "stripe-customers-aws-task"}
    assert acme["stripe-customers-gcp-runner"]["parent"] == "stripe-customers-gcp-job"  # a GCP service account takes no labels
    assert acme["salesforce-accounts-gke-gsa"]["parent"] == "salesforce-accounts-gke-cronjob"
    globex = {u["resource"]: u for u in coverage(plans[1], None)["coverage"]["untaggable"]}
    assert globex["salesforce-accounts-azure-storage-role"]["type"] == "azure-native:authorization:RoleAssignment"
    assert globex["salesforce-accounts-azure-storage-role"]["parent"] == "salesforce-accounts-azure-job"
    for record in (coverage(p, None) for p in plans):
        assert all(u["parent"] for u in record["coverage"]["untaggable"]), record["stack"]


def test_a_key_nobody_sets_is_missing_everywhere_in_each_cloud_format(plans):
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:data-owner\n  - key: dativo:cost-center\n")
    record = coverage(plans[0], policy)
    c = record["coverage"]
    assert c["fully_tagged"] == 0 and c["percent"] == 0.0 and len(c["missing"]) == c["taggable"]
    keys = {m["type"].split(":")[0]: m["keys"] for m in c["missing"]}
    assert keys["aws"] == ["dativo:data-owner"]
    assert keys["gcp"] == ["dativo-data-owner"]
    assert keys["kubernetes"] == ["dativo.io/data-owner"]
    assert "missing  stripe-customers-aws-task (aws:ecs/taskDefinition:TaskDefinition): dativo:data-owner" in render_coverage(record)


def test_rule_scopes_come_from_the_stack_and_the_job_components(plans):
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:data-owner\n    runtimes: [cloud_run]\n"
                                    "  - key: dativo:owner\n    providers: [azure]\n    environments: [prod]\n")
    acme = coverage(plans[0], policy)["coverage"]
    assert {m["resource"] for m in acme["missing"]} == {"stripe-customers-gcp-job"}
    globex = coverage(plans[1], policy)["coverage"]
    # the AKS job's identity and its Kubernetes objects, and the Container Apps job's resources
    assert {m["job"] for m in globex["missing"]} == {"hubspot-contacts-aks", "salesforce-accounts-azure"}
    assert coverage(plans[2], policy)["coverage"]["missing"] == []  # staging, AWS
    # a dagster job planned as ECS: the caller says its runtime
    scoped = coverage(plans[2], parse_policy("p.yaml", "rules:\n  - key: x\n    runtimes: [dagster]\n"),
                      scopes={"postgres-orders-aws": ("aws", "dagster")})["coverage"]
    assert scoped["fully_tagged"] == 0 and scoped["taggable"] > 0


def test_nothing_taggable_has_no_percentage():
    lone = Plan("acme", "dev", [PlannedResource("j", "aws:iam/rolePolicy:RolePolicy", "p", "urn:x", True, False, False, {})])
    record = coverage(lone, None)
    assert record["coverage"] == {"taggable": 0, "fully_tagged": 0, "percent": None, "missing": [],
                                  "untaggable": [{"resource": "p", "type": "aws:iam/rolePolicy:RolePolicy", "job": "j", "parent": None}]}
    assert "0/0 taggable resources fully tagged (n/a)" in render_coverage(record)
    assert fleet_coverage([record])["coverage"]["percent"] is None
