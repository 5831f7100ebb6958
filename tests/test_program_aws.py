"""The Pulumi program on AWS ECS, under the SDK's mock runtime with the real pulumi-aws classes."""
from __future__ import annotations

import json
import shutil

import pytest
from parliament import analyze_policy_string

from dativo_infra.plan import plan_stack
from dativo_infra.program import StackError

from .conftest import JOBS
from .plans import accepts, plan, policy_documents, stack_settings

ECS_ALWAYS = {
    "aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/rolePolicy:RolePolicy", "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:ecs/taskDefinition:TaskDefinition",
}
BUCKET = {"aws:s3/bucket:Bucket", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"}


@pytest.fixture(scope="module")
def aws_tree(tmp_path_factory):
    """The AWS ECS examples alone (other runtimes are tested in their own modules)."""
    root = tmp_path_factory.mktemp("jobs")
    shutil.copytree(JOBS / "assets", root / "assets")
    for rel in ("acme/stripe_customers_aws.yaml", "globex/postgres_orders_aws.yaml", "shared/stripe_customers_shared.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(JOBS / rel, root / rel)
    return str(root)


@pytest.fixture(scope="module")
def acme(aws_tree):
    return plan("acme", "prod", aws_tree)


@pytest.fixture(scope="module")
def globex_staging(aws_tree):
    return plan("globex", "staging", aws_tree)


def _types(resources):
    return {r.type for r in resources if r.custom}


def test_expected_resources_for_a_scheduled_job(acme):
    resources = acme.for_job("stripe-customers-aws")
    assert _types(resources) == ECS_ALWAYS | {"aws:scheduler/schedule:Schedule"}
    roles = sorted(r.name for r in resources if r.type == "aws:iam/role:Role")
    assert roles == ["stripe-customers-aws-execution-role", "stripe-customers-aws-schedule-role", "stripe-customers-aws-task-role"]
    schedule = next(r for r in resources if r.type == "aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "America/New_York"


def test_created_cluster_and_bucket_and_no_schedule(globex_staging):
    resources = globex_staging.for_job("postgres-orders-aws")
    assert _types(resources) == ECS_ALWAYS | BUCKET | {"aws:ecs/cluster:Cluster"}


def test_created_storage_is_protected_and_retained(globex_staging):
    buckets = [r for r in globex_staging.resources if r.type == "aws:s3/bucket:Bucket"]
    assert buckets and all(b.protect and b.retain_on_delete for b in buckets)
    encryption = next(r for r in globex_staging.resources if r.type.endswith("BucketServerSideEncryptionConfiguration"))
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = next(r for r in globex_staging.resources if r.type.endswith("BucketPublicAccessBlock"))
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


@pytest.mark.parametrize("stack", ["acme", "globex_staging"])
def test_every_taggable_resource_has_exactly_the_jobs_tags(stack, request):
    result = request.getfixturevalue(stack)
    checked = 0
    for r in result.resources:
        if not r.custom:
            continue
        job_tags = result.outputs[r.job]["tags"]
        if accepts(r.type, "tags"):
            tags = dict(r.inputs.get("tags", {}))
            if r.type == "aws:ec2/securityGroup:SecurityGroup":
                assert tags.pop("Name") == r.inputs["name"]  # set by the component, kept under the job's tags
            assert tags == job_tags, r.name
            checked += 1
        else:
            assert "tags" not in r.inputs, f"{r.type} takes no tags but got some"
    assert checked >= 6


def test_iam_policies_mention_only_the_jobs_bucket_prefix_and_key(acme):
    job = "stripe-customers-aws"
    storage = [json.loads(r.inputs["policy"]) for r in acme.for_job(job) if r.name.endswith("task-policy")]
    assert len(storage) == 1
    resources = {res for s in storage[0]["Statement"] for res in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert resources == {
        "arn:aws:s3:::acme-data-lake/raw/stripe/customers/*",
        "arn:aws:s3:::acme-data-lake",
        "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012",
    }
    listing = next(s for s in storage[0]["Statement"] if s["Action"] == "s3:ListBucket")
    # "raw/stripe/customers/" and below, never the bare prefix (its listing would include "raw/stripe/customers-eu/...")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["raw/stripe/customers/", "raw/stripe/customers/*"]}}
    assert not any("*" == res for res in resources)


def test_trust_policies_name_only_the_service_that_assumes_the_role(acme):
    trusts = policy_documents(acme.resources, "assumeRolePolicy")
    services = {s["Principal"]["Service"] for doc in trusts for s in doc["Statement"]}
    assert len(trusts) == 5 and services == {"ecs-tasks.amazonaws.com", "scheduler.amazonaws.com"}


def test_every_identity_policy_passes_parliament(acme, globex_staging):
    # parliament lints identity policies; trust policies have no Resource and are checked above
    docs = policy_documents(acme.resources) + policy_documents(globex_staging.resources)
    assert len(docs) >= 4
    for doc in docs:
        findings = analyze_policy_string(json.dumps(doc)).findings
        assert findings == [], (doc, [(f.issue, f.detail) for f in findings])


def test_no_ingress_and_egress_only_https_to_the_internet(acme):
    groups = [r for r in acme.resources if r.type == "aws:ec2/securityGroup:SecurityGroup"]
    assert groups and all(not g.inputs.get("ingress") for g in groups)
    rules = [r for r in acme.resources if r.type.startswith("aws:vpc/securityGroup")]
    assert all(r.type.endswith("EgressRule") for r in rules)
    open_rules = [r for r in rules if r.inputs["cidrIpv4"] == "0.0.0.0/0"]
    assert open_rules and all((r.inputs["fromPort"], r.inputs["toPort"]) == (443, 443) for r in open_rules)


def test_shared_job_gives_each_tenant_its_own_role_and_prefix(aws_tree):
    granted = {}
    for tenant in ("acme", "globex"):
        result = plan(tenant, "prod", aws_tree)
        policy = next(json.loads(r.inputs["policy"]) for r in result.for_job("stripe-customers-shared") if r.name.endswith("task-policy"))
        granted[tenant] = json.dumps(policy)
        role = next(r for r in result.for_job("stripe-customers-shared") if r.name.endswith("task-role"))
        assert role.inputs["name"].startswith(f"{tenant}-prod-")
    assert "acme/raw/stripe/customers/*" in granted["acme"] and "globex/" not in granted["acme"]
    assert "globex/raw/stripe/customers/*" in granted["globex"] and "acme/" not in granted["globex"]


def test_dagster_outputs(acme):
    out = acme.outputs["stripe-customers-aws"]["dagster"]
    assert out["container_name"] == "dativo-runner"
    assert out["run_tags"] == {"ecs/cpu": "2048", "ecs/memory": "4096", "dagster/max_runtime": "3600"}
    assert out["retry_policy"] == {"max_retries": 3, "delay": 60}
    assert out["subnets"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    assert out["task_definition"].startswith("arn:aws:ecs:")


def test_schedule_tags_the_tasks_it_starts_and_may_only_run_this_family(acme):
    resources = acme.for_job("stripe-customers-aws")
    schedule = next(r for r in resources if r.type == "aws:scheduler/schedule:Schedule")
    ecs = schedule.inputs["target"]["ecsParameters"]
    assert (ecs["propagateTags"], ecs["enableEcsManagedTags"]) == ("TASK_DEFINITION", True)
    policy = next(json.loads(r.inputs["policy"]) for r in resources if r.name.endswith("schedule-policy"))
    run = next(s for s in policy["Statement"] if s["Action"] == "ecs:RunTask")
    assert run["Resource"].endswith(":task-definition/" + ecs["taskDefinitionArn"].split("/")[-1].rsplit(":", 1)[0] + ":*")
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/dativo-prod-cluster"}}
    tag = next(s for s in policy["Statement"] if s["Action"] == "ecs:TagResource")
    assert tag["Resource"] == "arn:aws:ecs:us-east-1:123456789012:task/dativo-prod-cluster/*"


def test_task_definition_runs_this_job_file(acme):
    task = next(r for r in acme.for_job("stripe-customers-aws") if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    container = json.loads(task.inputs["containerDefinitions"])[0]
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}]
    assert task.inputs["volumes"] == [{"name": "scratch"}]
    assert container["command"] == ["dativo", "run", "--config", "/app/jobs/acme/stripe_customers_aws.yaml", "--mode", "self_hosted"]
    assert (task.inputs["cpu"], task.inputs["memory"], task.inputs["networkMode"]) == ("2048", "4096", "awsvpc")
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/dativo/acme/prod/stripe-customers-aws"


def test_planning_twice_gives_the_same_plan(aws_tree):
    first = plan_stack(stack_settings("acme", "prod", jobs_dir=aws_tree)).as_dict()
    second = plan_stack(stack_settings("acme", "prod", jobs_dir=aws_tree)).as_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_one_bad_job_fails_the_tenant_before_any_resource(aws_tree, tmp_path, monkeypatch):
    shutil.copytree(aws_tree, tmp_path / "jobs")
    bad = tmp_path / "jobs" / "acme" / "broken.yaml"
    bad.write_text("tenant_id: acme\nenvironment: prod\ninfrastructure:\n  provider: aws\n  runtime: {type: ecs, clustr_name: x}\n")
    import dativo_infra.plan as plan_module

    monitors = []

    class Spy(plan_module.RecordingMonitor):
        def __init__(self, mocks):
            super().__init__(mocks)
            monitors.append(self)

    monkeypatch.setattr(plan_module, "RecordingMonitor", Spy)
    with pytest.raises(StackError) as caught:
        plan_stack(stack_settings("acme", "prod", jobs_dir=str(tmp_path / "jobs")))
    assert any("did you mean 'cluster_name'" in p.message for p in caught.value.problems)
    assert monitors and monitors[0].registrations == []


def test_missing_stack_config_names_the_key_and_command():
    import pulumi

    from dativo_infra.plan import PlanMocks

    pulumi.runtime.set_mocks(PlanMocks(), project="dativo-infra", stack="x-y")
    pulumi.runtime.set_all_config({})
    from dativo_infra.errors import ConfigError
    from dativo_infra.program import context_from_pulumi

    with pytest.raises(ConfigError) as caught:
        context_from_pulumi()
    found = {(p.field, p.message) for p in caught.value.problems}
    assert ("dativo-infra:tenant", "missing; run: pulumi config set dativo-infra:tenant <value>") in found
    assert any(field == "dativo-infra:environment" for field, _ in found)


@pytest.mark.parametrize("cron, expression", [
    ("0 2 * * *", "cron(0 2 * * ? *)"),
    ("0 2 1 * *", "cron(0 2 1 * ? *)"),
    ("0 2 * * 1-5", "cron(0 2 ? * 2-6 *)"),  # cron numbers days 0–7 from Sunday, EventBridge 1–7
    ("0 2 * * 1-5/2", "cron(0 2 ? * 2-6/2 *)"),  # the step is not a day
    ("0 2 * * 0,7", "cron(0 2 ? * 1,1 *)"),
    ("0 2 * * 5#2", "cron(0 2 ? * 6#2 *)"),  # second Friday: the day shifts, the 2 does not
    ("0 2 * * FRI#2", "cron(0 2 ? * FRI#2 *)"),
    ("0 2 * * 5L", "cron(0 2 ? * 6L *)"),  # last Friday
])
def test_cron_becomes_an_eventbridge_schedule_expression(cron, expression):
    from dativo_infra.variables import aws_schedule_expression

    assert aws_schedule_expression(cron) == expression
