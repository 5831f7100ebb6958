"""The tag policy at every way in (issue 14): validate, tags, terraform export, plan, the stack config, --json, coverage.

A small fleet in a project folder in tmp_path: an ECS job in prod and a Cloud Run job in dev, for a tenant the
examples do not have. Each case is asked of validate, export and plan; they must agree on exit code and finding.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

PROJECT = "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n  gcp:region:\n    value: europe-west4\n"

ECS = """tenant_id: initech
environment: prod
finops: {{cost_center: {cost_center}}}
infrastructure:
  provider: aws
  runtime: {{type: ecs, cluster_name: etl}}
  networking: {{vpc_id: vpc-1, subnet_ids: [subnet-1]}}
  storage: {{bucket: initech-lake, prefix: raw}}
"""

CLOUD_RUN = """tenant_id: initech
environment: dev
infrastructure:
  provider: gcp
  runtime: {type: cloud_run}
  storage: {bucket: initech-lake-gcp, prefix: raw}
"""

POLICY = """rules:
  - key: dativo:cost-center
    pattern: '^[A-Z]+-[0-9]+$'
    environments: [prod]
    description: prod jobs name a cost center
  - key: dativo:data-owner
    environments: [dev]
    severity: warn
    description: dev jobs name an owner
"""


def project(tmp_path: Path, cost_center: str = "FIN-1234", policy: str = POLICY, stack_policy: bool = False) -> Path:
    root = tmp_path / "project"
    (root / "jobs" / "initech").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(PROJECT)
    (root / "policy.yaml").write_text(policy)
    (root / "jobs" / "initech" / "orders.yaml").write_text(ECS.format(cost_center=cost_center))
    (root / "jobs" / "initech" / "events.yaml").write_text(CLOUD_RUN)
    if stack_policy:
        for env in ("prod", "dev"):
            (root / f"Pulumi.initech-{env}.yaml").write_text(f"config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: {env}\n"
                                                             "  dativo-infra:policy: policy.yaml\n")
    return root


def ways_in(cli, root: Path, tmp_path: Path, *policy_flag):
    """(exit code, stdout + stderr) of validate, terraform export --all, plan of each stack, and plan --all."""
    common = ("--project-dir", root, *policy_flag)
    yield "validate", cli("validate", root / "jobs", *common)
    yield "export", cli("terraform", "export", "--all", root / "jobs", "--output-dir", tmp_path / "out", *common)
    for env in ("prod", "dev"):
        yield f"plan {env}", cli("plan", "--tenant", "initech", "--environment", env, "--jobs-dir", root / "jobs", *common)


@pytest.mark.parametrize("stack_policy", [False, True], ids=["--policy", "stack config"])
def test_a_value_failing_its_pattern_is_exit_2_naming_file_key_rule_and_level_everywhere(cli, tmp_path, stack_policy):
    root = project(tmp_path, cost_center="fin_1234", stack_policy=stack_policy)
    flag = () if stack_policy else ("--policy", root / "policy.yaml")
    for way, (code, out, err) in ways_in(cli, root, tmp_path, *flag):
        text = out + err
        if way == "plan dev":
            assert code == 0, (way, text)  # the prod rule does not reach dev; its warn rule does
            assert "warning: " in text and "dativo:data-owner: required tag is missing" in text
            continue
        assert code == 2, (way, text)
        assert (f"{root / 'jobs' / 'initech' / 'orders.yaml'}: policy: dativo:cost-center: value 'fin_1234' does not match "
                "^[A-Z]+-[0-9]+$ (rule 1: prod jobs name a cost center; level job.finops from") in text, (way, text)


def test_a_missing_required_key_fails_only_the_job_that_lacks_it(cli, tmp_path):
    root = project(tmp_path, policy="rules:\n  - key: dativo:project\n    providers: [aws]\n")
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root, "--policy", root / "policy.yaml", "--json")
    assert code == 2
    report = json.loads(out)
    assert [e["file"].rsplit("/", 1)[1] for e in report["errors"]] == ["orders.yaml"]  # the GCP job is out of the rule's scope
    assert "dativo:project: required tag is missing (looked for 'dativo:project' in the aws tags)" in report["errors"][0]["message"]


def test_a_warn_rule_keeps_exit_0_and_json_carries_it(cli, tmp_path):
    root = project(tmp_path)
    code, out, err = cli("validate", root / "jobs", "--project-dir", root, "--policy", root / "policy.yaml", "--json")
    assert code == 0, out + err
    report = json.loads(out)
    warnings = [w for f in report["files"] for j in f["jobs"] for w in j["warnings"]]
    assert [(w["severity"], w["key"], w["level"]) for w in warnings] == [("warn", "dativo:data-owner", "missing")]
    code, out, err = cli("tags", root / "jobs" / "initech" / "events.yaml", "--project-dir", root, "--policy", root / "policy.yaml", "--json")
    assert code == 0 and json.loads(out)["warnings"][0]["key"] == "dativo:data-owner"
    code, out, err = cli("plan", "--tenant", "initech", "--environment", "dev", "--jobs-dir", root / "jobs", "--project-dir", root,
                         "--policy", root / "policy.yaml", "--json")
    assert code == 0 and json.loads(out)["warnings"][0]["key"] == "dativo:data-owner"


def test_the_exported_tfvars_carry_the_required_keys_the_module_checks(cli, tmp_path):
    root = project(tmp_path)
    code, out, err = cli("terraform", "export", "--config", root / "jobs" / "initech" / "orders.yaml", "--output", "-", "--format", "json",
                         "--project-dir", root, "--policy", root / "policy.yaml")
    assert code == 0, err
    variables = json.loads(out)
    assert variables["required_tag_keys"] == ["dativo:cost-center"]
    assert "dativo:cost-center" in variables["tags"]


def test_plan_coverage_json_shape_per_stack_and_for_the_fleet(cli, tmp_path):
    root = project(tmp_path)
    code, out, err = cli("plan", "--tenant", "initech", "--environment", "prod", "--jobs-dir", root / "jobs", "--project-dir", root,
                         "--policy", root / "policy.yaml", "--coverage", "--json")
    assert code == 0, err
    coverage = json.loads(out)["coverage"]
    assert set(coverage) >= {"taggable", "fully_tagged", "percent", "missing", "untaggable"}
    assert coverage["taggable"] > 0 and coverage["fully_tagged"] == coverage["taggable"] and coverage["percent"] == 100.0
    assert all(set(u) >= {"resource", "type", "parent"} and u["parent"] for u in coverage["untaggable"])
    assert any(u["type"] == "aws:iam/rolePolicy:RolePolicy" for u in coverage["untaggable"])
    code, out, err = cli("plan", "--all", "--jobs-dir", root / "jobs", "--project-dir", root, "--coverage", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert all("coverage" in s for s in report["stacks"]) and report["coverage"]["taggable"] == sum(s["coverage"]["taggable"] for s in report["stacks"])


def test_tags_activation_lists_the_fleets_keys_with_the_aws_request(cli, tmp_path):
    root = project(tmp_path)
    code, out, err = cli("tags", "activation", "--provider", "aws", "--jobs-dir", root / "jobs", "--project-dir", root, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert "dativo:cost-center" in result["keys"] and "dativo-cost-center" not in result["keys"]
    assert result["requests"][0]["CostAllocationTagsStatus"][0] == {"TagKey": result["keys"][0], "Status": "Active"}
    code, out, _ = cli("tags", "activation", "--provider", "gcp", "--jobs-dir", root / "jobs", "--project-dir", root, "--json")
    assert code == 0 and json.loads(out)["activation_required"] is False and "dativo-tenant" in json.loads(out)["keys"]


@pytest.mark.parametrize("pattern,message", [
    ("a{99999999999}", "repeat count too big"),
    ("(" * 1200 + "a" + ")" * 1200, "pattern is 2401 characters long; at most 1000"),
    ("(" * 400 + "a" + ")" * 400, "invalid regular expression"),
])
def test_a_pattern_no_engine_can_hold_is_a_policy_error_not_a_crash(cli, tmp_path, pattern, message):
    root = project(tmp_path, policy=f"rules:\n  - key: dativo:cost-center\n    pattern: '{pattern}'\n")
    for args in (["validate", root / "jobs"], ["plan", "--tenant", "initech", "--environment", "prod", "--jobs-dir", root / "jobs"]):
        code, out, err = cli(*args, "--project-dir", root, "--policy", root / "policy.yaml", "--json")
        assert code == 2, (args, out + err)
        assert message in json.loads(out)["errors"][0]["message"], out


def test_a_slow_pattern_on_a_tenants_value_is_a_finding_not_a_hang(cli, tmp_path, monkeypatch):
    import sys

    evaluate = sys.modules["dativo_infra.policy.evaluate"]

    def slow_search(value, timeout=None):
        raise TimeoutError  # what the regex engine raises once a match passes its time limit
    real = evaluate._compiled

    class Slow:
        def __init__(self, compiled):
            self.search = slow_search

    monkeypatch.setattr(evaluate, "_compiled", lambda p, i: Slow(real(p, i)))
    root = project(tmp_path)
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root, "--policy", root / "policy.yaml")
    assert code == 2 and "took more than 1 s on value 'FIN-1234': simplify the pattern" in out
