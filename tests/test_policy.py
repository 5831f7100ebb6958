"""The tag policy: loading (strict YAML, FILE:LINE:COL problems), evaluation on real jobs' tag sets, activation."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dativo_infra.errors import ConfigError
from dativo_infra.jobs import load_jobs
from dativo_infra.policy import MISSING, activation, evaluate, has_errors, load_policy, parse_policy, render_activation, required_keys
from dativo_infra.policy.schema import SCHEMA_PATH, render
from dativo_infra.tags import tag_set

from .conftest import JOBS, ROOT

PROD = ROOT / "examples" / "policies" / "prod.yaml"
BASELINE = ROOT / "examples" / "policies" / "baseline.yaml"


def job_with(write, tmp_path: Path, example: str, old: str, new: str):
    """A copy of an example job with one line changed, loaded against the example assets."""
    text = (JOBS / example).read_text(encoding="utf-8")
    assert old in text, old
    path = write("jobs/" + Path(example).name, text.replace(old, new, 1))
    result = load_jobs([str(path)], assets_dir=str(JOBS / "assets"))
    assert result.ok, [p.render() for p in result.problems]
    return result.jobs[0]


def run(policy, job, cloud=None):
    cloud = cloud or job.infrastructure.provider
    return evaluate(policy, tenant=job.config.tenant_id, environment=job.config.environment, provider=job.infrastructure.provider,
                    runtime=job.infrastructure.runtime.type, job_file=job.path, tag_set=tag_set(job, cloud), cloud=cloud)


def example(name: str):
    result = load_jobs([str(JOBS / name)], variables={"TENANT_ID": "acme"})
    assert result.ok, [p.render() for p in result.problems]
    return result.jobs[0]


# --- loading -----------------------------------------------------------------------------------

def test_example_policies_load_with_defaults():
    policy = load_policy(str(PROD))
    assert policy.source == str(PROD)
    cost, owner = policy.rules
    assert (cost.key, cost.required, cost.severity, cost.environments, cost.providers) == ("dativo:cost-center", True, "error", ["prod"], None)
    assert (owner.key, owner.required, owner.severity, owner.environments) == ("dativo:data-owner", True, "warn", ["dev"])
    assert len(load_policy(str(BASELINE)).rules) == 6


@pytest.mark.parametrize("text, problem", [
    ("rules:\n  - key: a\n    pattern: '[A-'\n", "p.yaml:3:5: rules[0].pattern: invalid regular expression '[A-': unterminated character set at position 3"),
    ("rules:\n  - key: a\n    severty: warn\n", "p.yaml:3:5: rules[0].severty: unknown key 'severty'; did you mean 'severity'?"),
    ("rules:\n  - key: a\n    severity: fatal\n", "p.yaml:3:5: rules[0].severity: Input should be 'error' or 'warn', got 'fatal'"),
    ("rules:\n  - key: a\n    providers: [aws, gpc]\n", "p.yaml:3:22: rules[0].providers[1]: Input should be 'aws', 'gcp' or 'azure', got 'gpc'; did you mean 'gcp'?"),
    ("rules:\n  - key: a\n    required: false\n", "p.yaml:2:5: rules[0]: a rule with required: false checks nothing"),
    ("rules:\n  - key: a\n    environments: []\n", "p.yaml:3:5: rules[0].environments: List should have at least 1 item"),
    ("rules:\n  - key: a\n  - key: a\n    key: b\n", "p.yaml:4:5: YAML syntax error"),
    ("", "p.yaml:1:1: policy file is empty"),
    ("rule: []\n", "p.yaml:1:1: rule: unknown key 'rule'; did you mean 'rules'?"),
])
def test_bad_policies_are_config_errors_with_positions(write, text, problem):
    path = write("p.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_policy(str(path))
    rendered = [p.render().replace(str(path), "p.yaml") for p in info.value.problems]
    assert any(r.startswith(problem) for r in rendered), rendered


def test_a_missing_policy_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy(str(tmp_path / "none.yaml"))


def test_schema_file_is_current_and_validates_the_examples():
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == render(), "run: .venv/bin/python -m dativo_infra.policy.schema > schemas/policy.schema.json"
    schema = json.loads(render())
    import yaml
    for path in (PROD, BASELINE):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rules": [{"key": "a", "severity": "fatal"}]}, schema)


# --- evaluation --------------------------------------------------------------------------------

def test_issue_example_accepts_fin_1234_on_aws(write, tmp_path):
    job = job_with(write, tmp_path, "acme/stripe_customers_aws.yaml", "  cost_center: HR-001\n", "  cost_center: FIN-1234\n")
    assert tag_set(job, "aws").tags["dativo:cost-center"] == "FIN-1234"
    assert run(load_policy(str(PROD)), job) == []


def test_a_bad_value_names_file_key_rule_and_level(write, tmp_path):
    job = job_with(write, tmp_path, "acme/stripe_customers_aws.yaml", "  cost_center: HR-001\n", "  cost_center: fin_1234\n")
    (finding,) = run(load_policy(str(PROD)), job)
    assert (finding.severity, finding.key, finding.rule, finding.level, finding.source, finding.value) == (
        "error", "dativo:cost-center", 1, "job.finops", job.path, "fin_1234")
    assert finding.render() == (f"{job.path}: policy: dativo:cost-center: value 'fin_1234' does not match ^[A-Z]+-[0-9]+$ "
                                f"(rule 1, level job.finops from {job.path})")
    data = finding.as_dict()
    assert data["rule"] == {"index": 1, "description": "prod jobs name a cost center like FIN-1234"}
    (overrode,) = data["overrode"]
    assert (overrode["level"], overrode["key"], overrode["value"]) == ("asset.finops", "dativo:cost-center", "FIN-001")
    assert overrode["source"].endswith("assets/stripe/v1.0/customers.yaml")
    assert has_errors([finding])


def test_gcp_values_are_checked_as_labels_ignoring_case():
    """GCP lowercases label values: HR-001 is the label hr-001, which the uppercase pattern accepts ignoring case."""
    job = example("acme/stripe_customers_gcp.yaml")
    assert tag_set(job, "gcp").tags["dativo-cost-center"] == "hr-001"
    assert run(load_policy(str(PROD)), job) == []
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:cost-center\n    pattern: '^[A-Z]+_[0-9]+$'\n")
    (finding,) = run(policy, job)
    assert finding.message == "value 'hr-001' does not match ^[A-Z]+_[0-9]+$ (ignoring case: the cloud lowercases values)"
    assert finding.cloud_key == "dativo-cost-center"


def test_a_missing_key_is_level_missing_in_the_cloud_format():
    job = example("acme/hubspot_contacts_kubernetes.yaml")
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:data-owner\n")
    (aws,) = run(policy, job, "aws")
    (k8s,) = run(policy, job, "kubernetes")
    assert (aws.level, aws.source, aws.cloud_key) == (MISSING, None, "dativo:data-owner")
    assert k8s.cloud_key == "dativo.io/data-owner"
    assert k8s.render() == (f"{job.path}: policy: dativo:data-owner: required tag is missing "
                            "(looked for 'dativo.io/data-owner' in the kubernetes labels) (rule 1, level missing)")


def test_warn_rules_are_findings_without_errors():
    job = example("acme/stripe_customers_aws.yaml")
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:data-owner\n    severity: warn\n")
    findings = run(policy, job)
    assert [f.severity for f in findings] == ["warn"] and not has_errors(findings)


@pytest.mark.parametrize("scope, applies", [
    ("environments: [prod]", True), ("environments: [dev]", False),
    ("providers: [aws]", True), ("providers: [gcp, azure]", False),
    ("runtimes: [ecs]", True), ("runtimes: [kubernetes]", False),
    ("tenants: [acme]", True), ("tenants: [globex]", False),
])
def test_scopes_select_the_jobs_a_rule_applies_to(scope, applies):
    job = example("acme/stripe_customers_aws.yaml")
    policy = parse_policy("p.yaml", f"rules:\n  - key: dativo:data-owner\n    {scope}\n")
    assert bool(run(policy, job)) is applies


def test_values_are_compared_in_the_cloud_format_and_azure_keys_ignore_case():
    job = example("globex/salesforce_accounts_azure.yaml")
    ok = parse_policy("p.yaml", "rules:\n  - key: DATIVO:COST-CENTER\n    values: [REVOPS-200, OPS-310]\n")
    assert run(ok, job) == []
    bad = parse_policy("p.yaml", "rules:\n  - key: dativo:cost-center\n    values: [OPS-310]\n")
    (finding,) = run(bad, job)
    assert finding.message == "value 'REVOPS-200' is not one of 'OPS-310'"
    gcp = example("acme/stripe_customers_gcp.yaml")
    assert run(parse_policy("p.yaml", "rules:\n  - key: dativo:cost-center\n    values: [HR-001]\n"), gcp) == []


def test_an_optional_rule_checks_only_present_values():
    job = example("acme/stripe_customers_aws.yaml")
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:data-owner\n    required: false\n    pattern: '@'\n"
                                    "  - key: Owner\n    required: false\n    pattern: '@globex'\n")
    (finding,) = run(policy, job)
    assert (finding.key, finding.level, finding.value) == ("Owner", "infrastructure.tags", "data-team@acme.com")


def test_a_key_the_cloud_reserves_is_reported():
    job = example("acme/stripe_customers_aws.yaml")
    (finding,) = run(parse_policy("p.yaml", "rules:\n  - key: aws:owner\n"), job)
    assert "cannot have this key" in finding.message and finding.cloud_key == ""


def test_every_example_job_satisfies_the_baseline_policy():
    policy = load_policy(str(BASELINE))
    result = load_jobs([str(JOBS)], variables={"TENANT_ID": "acme"})
    assert result.ok
    jobs = [j for j in result.jobs if j.infrastructure is not None]
    assert len(jobs) >= 9
    for job in jobs:
        clouds = [job.infrastructure.provider] + (["kubernetes"] if job.infrastructure.runtime.type == "kubernetes" else [])
        for cloud in clouds:
            assert run(policy, job, cloud) == [], (job.path, cloud)


def test_required_keys_are_error_rules_formatted_for_the_cloud():
    policy = parse_policy("p.yaml", "rules:\n  - key: dativo:cost-center\n  - key: Team\n    providers: [gcp]\n"
                                    "  - key: dativo:data-owner\n    severity: warn\n"
                                    "  - key: dativo:project\n    required: false\n    pattern: x\n")
    scope = dict(tenant="acme", environment="prod", runtime="kubernetes")
    assert required_keys(policy, provider="gcp", cloud="gcp", **scope) == ["dativo-cost-center", "team"]
    assert required_keys(policy, provider="gcp", cloud="kubernetes", **scope) == ["Team", "dativo.io/cost-center"]
    assert required_keys(policy, provider="aws", cloud="aws", **scope) == ["dativo:cost-center"]


# --- activation --------------------------------------------------------------------------------

def test_aws_activation_batches_twenty_keys_per_request():
    keys = [f"key-{i:02d}" for i in range(45)] + ["key-00"]
    result = activation({"aws": keys, "kubernetes": ["dativo.io/tenant"]}, "aws")
    assert result["activation_required"] is True and result["keys"] == sorted(set(keys))
    assert [len(r["CostAllocationTagsStatus"]) for r in result["requests"]] == [20, 20, 5]
    assert result["requests"][0]["CostAllocationTagsStatus"][0] == {"TagKey": "key-00", "Status": "Active"}
    command = result["commands"][2]
    assert command.startswith("aws ce update-cost-allocation-tags-status --cli-input-json '")
    assert json.loads(command.split(" ", 4)[4].strip("'")) == result["requests"][2]
    text = render_activation(result)
    assert "24 hours" in text and "batch 3/3" in text and "Kubernetes label keys are not cloud tags" in text


@pytest.mark.parametrize("provider, link, words", [
    ("gcp", "https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables", "Nothing to activate"),
    ("azure", "https://learn.microsoft.com/azure/cost-management-billing/costs/enable-tag-inheritance", "tag inheritance"),
])
def test_gcp_and_azure_say_what_to_set_with_the_link(provider, link, words):
    result = activation({provider: ["b", "a"], "aws": ["x"]}, provider)
    assert result["keys"] == ["a", "b"] and result["requests"] == [] and result["activation_required"] is False
    assert link in result["docs"] and words in render_activation(result)


def test_activation_of_the_example_fleet_keys():
    result = load_jobs([str(JOBS)], variables={"TENANT_ID": "acme"})
    keys = {cloud: set() for cloud in ("aws", "gcp", "azure", "kubernetes")}
    for job in result.jobs:
        if job.infrastructure is not None:
            keys[job.infrastructure.provider] |= set(tag_set(job, job.infrastructure.provider).tags)
    aws = activation(keys, "aws")
    assert {"dativo:cost-center", "dativo:tenant", "CostCenter"} <= set(aws["keys"])
    assert sum(len(r["CostAllocationTagsStatus"]) for r in aws["requests"]) == len(aws["keys"])


def test_an_unknown_provider_is_a_value_error():
    with pytest.raises(ValueError, match="provider must be one of aws, gcp, azure"):
        activation({}, "kubernetes")
