"""The CrossGuard pack (policy_pack/) with pulumi-policy's real classes, on the resources of the offline plans.

PolicyPack(...) starts the analyzer's gRPC server and waits for the Pulumi CLI (not installable here),
so the pack's module is run under another name, and its ResourceValidationPolicy objects validate
ResourceValidationArgs built by hand from each planned resource (type, name, URN, recorded inputs).
"""
from __future__ import annotations

import runpy

import pytest
import yaml
from pulumi_policy import EnforcementLevel, PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.policy import _POLICY_PACK_NAME_RE
from pulumi_policy.proxy import unknown_checking_proxy

from dativo_infra.policy import taggable

from .conftest import ROOT
from .plans import plan

PACK = ROOT / "policy_pack"
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yaml")
PROD = str(ROOT / "examples" / "policies" / "prod.yaml")
STACKS = [("acme", "prod"), ("globex", "prod"), ("globex", "staging")]


@pytest.fixture(scope="module")
def pack():
    return runpy.run_path(str(PACK / "__main__.py"), run_name="dativo_policy_pack")


@pytest.fixture(scope="module")
def resources():
    return [r for tenant, environment in STACKS for r in plan(tenant, environment).resources if r.custom]


def args_for(resource, config=None) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(protect=resource.protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
    return ResourceValidationArgs(resource.type, unknown_checking_proxy(resource.inputs), resource.urn, resource.name,
                                  opts, None, config if config is not None else {})


def violations(pack, resource, config, which=0) -> list[str]:
    found: list[str] = []
    result = pack["POLICIES"][which].validate(args_for(resource, config), lambda message, urn=None: found.append(message))
    assert result is None  # the validators are synchronous
    return found


def test_pack_definition(pack):
    meta = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert meta["runtime"]["name"] == "python" and meta["description"]
    assert any(line.startswith("pulumi-policy") for line in (PACK / "requirements.txt").read_text(encoding="utf-8").splitlines())
    assert _POLICY_PACK_NAME_RE.match(pack["PACK_NAME"])
    errors, warnings = pack["POLICIES"]
    assert (errors.name, errors.enforcement_level) == ("dativo-tag-policy", EnforcementLevel.MANDATORY)
    assert (warnings.name, warnings.enforcement_level) == ("dativo-tag-policy-warnings", EnforcementLevel.ADVISORY)
    assert errors.config_schema.properties["policyFile"]["type"] == "string"


def test_the_examples_pass_the_baseline_policy(pack, resources):
    checked = 0
    for resource in resources:
        assert violations(pack, resource, {"policyFile": BASELINE}) == [], resource.urn
        assert violations(pack, resource, {"policyFile": BASELINE}, which=1) == [], resource.urn
        checked += taggable(resource.type) is not None
    assert checked > 50


def test_prod_policy_flags_exactly_the_shared_jobs_cost_center(pack, resources):
    flagged = {}
    for resource in resources:
        found = violations(pack, resource, {"policyFile": PROD})
        if found:
            flagged[resource.urn] = found
    assert flagged, "no violation"
    assert {urn.rsplit("::", 1)[1].split("-")[0] for urn in flagged} == {"stripe", "postgres"}
    assert all("shared" in urn for urn in flagged), sorted(flagged)
    message = next(iter(flagged.values()))[0]
    assert message.startswith("dativo:cost-center: value 'SHARED-DATA-001' does not match ^[A-Z]+-[0-9]+$ (rule 1: prod jobs name a cost center like FIN-1234;")
    # every taggable resource of the shared jobs in a prod stack is flagged; untaggable ones never are
    expected = {r.urn for r in resources if "shared" in r.urn and taggable(r.type)}
    assert set(flagged) == expected


def test_missing_tags_and_warn_rules(pack, resources, write):
    path = write("policy.yaml", "rules:\n  - key: dativo:data-owner\n  - key: dativo:tenant\n    values: [acme]\n"
                                "    severity: warn\n    providers: [gcp]\n")
    job = next(r for r in resources if r.type == "gcp:cloudrunv2/job:Job")
    assert violations(pack, job, {"policyFile": str(path)}) == [
        "dativo:data-owner: required tag is missing (looked for 'dativo-data-owner' in the gcp labels) "
        "(rule 1: dativo:data-owner required; gcp labels of gcp:cloudrunv2/job:Job stripe-customers-gcp-job)"]
    assert violations(pack, job, {"policyFile": str(path)}, which=1) == []  # acme: the warn rule holds
    aks = next(r for r in resources if r.type == "kubernetes:batch/v1:CronJob" and "aks" in r.name)
    assert len(violations(pack, aks, {"policyFile": str(path)})) == 1
    # the Kubernetes objects of a GKE job: provider gcp from the component, tenant from the labels
    gke = next(r for r in resources if r.type == "kubernetes:batch/v1:CronJob" and "gke" in r.name)
    assert violations(pack, gke, {"policyFile": str(path)}, which=1) == []
    untaggable = next(r for r in resources if r.type == "aws:iam/rolePolicy:RolePolicy")
    assert violations(pack, untaggable, {"policyFile": str(path)}) == []


def test_scope_from_the_urn_tags_and_config(pack, resources):
    gke = next(r for r in resources if r.type == "kubernetes:batch/v1:CronJob" and "gke" in r.name)
    scope = pack["resource_scope"](gke.type, gke.urn, "kubernetes", gke.inputs["metadata"]["labels"], {"runtime": "ignored"})
    assert scope == {"tenant": "acme", "environment": "prod", "provider": None, "runtime": "kubernetes"}
    ecs = next(r for r in resources if r.type == "aws:iam/role:Role" and "stripe-customers-aws" in r.name)
    assert pack["resource_scope"](ecs.type, ecs.urn, "aws", ecs.inputs["tags"], {}) == {
        "tenant": "acme", "environment": "production", "provider": "aws", "runtime": "ecs"}  # finops.environment renames it
    assert pack["component_scope"]("urn:pulumi:s::p::aws:s3/bucket:Bucket::b") == (None, None)
    assert pack["resource_scope"]("aws:s3/bucket:Bucket", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "aws", {},
                                  {"tenant": "t", "environment": "dev"}) == {"tenant": "t", "environment": "dev", "provider": "aws", "runtime": None}


def test_policy_file_from_the_environment(pack, resources, monkeypatch, write):
    job = next(r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    assert violations(pack, job, {}) == ["no tag policy file: set the 'policyFile' config of this policy or DATIVO_POLICY_FILE"]
    assert violations(pack, job, {}, which=1) == []
    monkeypatch.setenv("DATIVO_POLICY_FILE", str(write("p.yaml", "rules:\n  - key: Nope\n")))
    assert violations(pack, job, {}) == [
        f"Nope: required tag is missing (looked for 'Nope' in the aws tags) (rule 1: Nope required; aws tags of {job.type} {job.name})"]


def test_an_invalid_policy_fails_the_mandatory_policy_with_its_position(pack, resources, write):
    job = next(r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    path = write("bad.yaml", "rules:\n  - key: a\n    pattern: '('\n")
    (message,) = violations(pack, job, {"policyFile": str(path)})
    assert message.startswith(f"invalid tag policy: {path}:3:5: rules[0].pattern: invalid regular expression '('")
    (message,) = violations(pack, job, {"policyFile": str(path) + ".none"})
    assert "cannot read the tag policy file" in message
