"""One stack, one answer (issue 12): the stack's files decide what every way in provisions, by value.

Each test builds a project folder in tmp_path (Pulumi.yaml, stack files, jobs) for tenants the examples do not
have, then asks the command line for the plan (the Pulumi program under mocks) and the tfvars export (what the
Terraform modules receive) and compares the values: region, image, sizes, resource group, shared jobs.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

PROJECT = """name: dativo-infra
runtime: python
config:
  dativo-infra:image:
    type: string
    default: registry.example.com/dativo-ingest:project-default
  aws:region:
    value: us-east-1
"""

ECS = """tenant_id: {tenant}
environment: prod
infrastructure:
  provider: aws
{region}  runtime:
    type: ecs
    cluster_name: etl
{image}  compute: {{cpu: "1024", memory: "2048"}}
  networking:
    vpc_id: vpc-1
    subnet_ids: [subnet-1]
  storage:
    bucket: {tenant}-lake
    prefix: raw
"""

CLOUD_RUN = """tenant_id: {tenant}
environment: prod
infrastructure:
  provider: gcp
{region}  runtime:
    type: cloud_run
  compute: {{cpu: "2", memory: 4Gi}}
  storage:
    bucket: {tenant}-lake-gcp
    prefix: raw
"""

CONTAINER_APPS = """tenant_id: {tenant}
environment: prod
infrastructure:
  provider: azure
  runtime:
    type: container_apps
    cluster_name: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/hooli-etl/providers/Microsoft.App/managedEnvironments/hooli-env
  compute: {{cpu: "1", memory: 2Gi}}
  storage:
    bucket: hoolilake/raw
    prefix: in
"""

SHARED = """tenant_id: "${{TENANT_ID}}"
environment: prod
infrastructure:
  provider: aws
  runtime:
    type: ecs
    cluster_name: shared
  networking:
    vpc_id: vpc-1
    subnet_ids: [subnet-1]
  storage:
    bucket: shared-lake-{n}
    prefix: "${{TENANT_ID}}/raw"
"""


def project(tmp_path: Path, stacks: dict[str, str], jobs: dict[str, str]) -> Path:
    root = tmp_path / "project"
    (root / "jobs").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(PROJECT)
    for name, text in stacks.items():
        (root / f"Pulumi.{name}.yaml").write_text(text)
    for path, text in jobs.items():
        target = root / "jobs" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def plan(cli, root: Path, tenant: str, environment: str = "prod", *extra) -> dict:
    code, out, err = cli("plan", "--tenant", tenant, "--environment", environment, "--project-dir", root, "--jobs-dir", root / "jobs",
                         "--json", *extra)
    assert code == 0, out + err
    return json.loads(out)


def export(cli, root: Path, job: str, *extra) -> dict:
    code, out, err = cli("terraform", "export", "--config", root / "jobs" / job, "--output", "-", "--format", "json",
                         "--project-dir", root, *extra)
    assert code == 0, out + err
    return json.loads(out)


def of_type(data: dict, typ: str) -> list[dict]:
    return [r for r in data["resources"] if r["type"] == typ]


def container(data: dict) -> dict:
    (task,) = of_type(data, "aws:ecs/taskDefinition:TaskDefinition")
    return json.loads(task["inputs"]["containerDefinitions"])[0]


def aws_regions(data: dict) -> set:
    return {r["inputs"].get("region") for r in data["resources"] if r["custom"] and r["type"].startswith("aws:")
            and r["type"].split(":")[1].split("/")[0] not in ("iam",)}


# --- 1. region --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job_region,stack_region,expected", [
    ("eu-west-1", "ap-south-1", "eu-west-1"),   # the job's region wins
    (None, "ap-south-1", "ap-south-1"),         # else the stack file's aws:region
    (None, None, "us-east-1"),                  # else Pulumi.yaml's
])
def test_an_ecs_jobs_region_reaches_every_regional_resource_and_its_tfvars(cli, tmp_path, job_region, stack_region, expected):
    stacks = {"initech-prod": "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n"
                              + (f"  aws:region: {stack_region}\n" if stack_region else "")}
    region_line = f"  region: {job_region}\n" if job_region else ""
    root = project(tmp_path, stacks, {"initech/orders.yaml": ECS.format(tenant="initech", region=region_line, image="")})
    planned = plan(cli, root, "initech")
    assert aws_regions(planned) == {expected}
    assert container(planned)["logConfiguration"]["options"]["awslogs-region"] == expected
    assert export(cli, root, "initech/orders.yaml")["region"] == expected


def test_a_gcp_job_takes_the_stacks_gcp_region_and_without_any_region_validate_says_where_to_set_it(cli, tmp_path):
    stacks = {"umbrella-prod": "config:\n  dativo-infra:tenant: umbrella\n  dativo-infra:environment: prod\n  gcp:region: europe-west4\n"}
    root = project(tmp_path, stacks, {"umbrella/events.yaml": CLOUD_RUN.format(tenant="umbrella", region="")})
    planned = plan(cli, root, "umbrella")
    (job,) = of_type(planned, "gcp:cloudrunv2/job:Job")
    assert job["inputs"]["location"] == "europe-west4"
    assert export(cli, root, "umbrella/events.yaml")["region"] == "europe-west4"

    (root / "Pulumi.umbrella-prod.yaml").write_text("config:\n  dativo-infra:tenant: umbrella\n  dativo-infra:environment: prod\n")
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root)
    assert code == 2
    assert "infrastructure.region: no region for this gcp job: set infrastructure.region in the job file, or gcp:region in " \
           "Pulumi.umbrella-prod.yaml" in out


# --- 2. stack files: image, and which file wins ----------------------------------------------------------------


@pytest.mark.parametrize("where,expected", [
    ("job", "registry.example.com/from-job:1"),
    ("flag", "registry.example.com/from-flag:1"),
    ("stack", "registry.example.com/from-stack:1"),
    ("project", "registry.example.com/dativo-ingest:project-default"),
])
def test_the_image_comes_from_job_flag_stack_file_or_pulumi_yaml_in_that_order(cli, tmp_path, where, expected):
    stack = "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n"
    if where in ("stack", "flag", "job"):
        stack += "  dativo-infra:image: registry.example.com/from-stack:1\n"
    image = "    image: registry.example.com/from-job:1\n" if where == "job" else ""
    root = project(tmp_path, {"initech-prod": stack}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=image)})
    flags = ("--image", "registry.example.com/from-flag:1") if where in ("flag", "job") else ()
    assert container(plan(cli, root, "initech", "prod", *flags))["image"] == expected
    assert export(cli, root, "initech/orders.yaml", *flags)["image"] == expected


def test_the_stack_files_vars_resolve_job_variables_for_every_way_in(cli, tmp_path):
    stack = "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n  dativo-infra:vars:\n    CLUSTER: etl-blue\n"
    job = ECS.format(tenant="initech", region="", image="").replace("cluster_name: etl", "cluster_name: ${CLUSTER}")
    root = project(tmp_path, {"initech-prod": stack}, {"initech/orders.yaml": job})
    assert export(cli, root, "initech/orders.yaml")["cluster_name"] == "etl-blue"
    planned = plan(cli, root, "initech")
    assert planned["outputs"]["orders"]["cluster_name"] == "etl-blue"


# --- 3. unknown tenants ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "up", "preview"])
def test_an_unknown_tenant_is_exit_2_naming_the_nearest_known_one(cli, tmp_path, command):
    root = project(tmp_path, {}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=""),
                                  "shared/common.yaml": SHARED.format(n=1)})
    code, out, err = cli(command, "--tenant", "initek", "--environment", "prod", "--project-dir", root, "--jobs-dir", root / "jobs", "--json")
    assert code == 2, out + err
    (problem,) = json.loads(out)["errors"]
    assert "unknown tenant 'initek': did you mean 'initech'?" in problem["message"]


def test_a_tenant_with_only_a_stack_file_exists_and_gets_the_shared_jobs(cli, tmp_path):
    stacks = {"hooli-prod": "config:\n  dativo-infra:tenant: hooli\n  dativo-infra:environment: prod\n"}
    root = project(tmp_path, stacks, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=""),
                                      "shared/common.yaml": SHARED.format(n=1)})
    planned = plan(cli, root, "hooli")
    assert {r["job"] for r in planned["resources"] if r["job"]} == {"common"}


# --- 4. shared jobs per stack -------------------------------------------------------------------------------


@pytest.mark.parametrize("setting,expected", [
    (None, {"orders", "common", "audit"}),             # the documented default: all
    ("all", {"orders", "common", "audit"}),
    ("none", {"orders"}),
    ('["audit"]', {"orders", "audit"}),
])
def test_each_stack_chooses_its_shared_jobs(cli, tmp_path, setting, expected):
    stack = "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n"
    if setting is not None:
        stack += f"  dativo-infra:sharedJobs: '{setting}'\n"
    root = project(tmp_path, {"initech-prod": stack}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=""),
                                                       "shared/common.yaml": SHARED.format(n=1), "shared/audit.yaml": SHARED.format(n=2)})
    assert {r["job"] for r in plan(cli, root, "initech")["resources"] if r["job"]} == expected
    code, out, err = cli("terraform", "export", "--all", root / "jobs", "--output-dir", tmp_path / "out", "--project-dir", root, "--json")
    assert code == 0, out + err
    assert {e["job"] for e in json.loads(out)["exported"] if e["tenant"] == "initech"} == expected


# --- 5. Azure: the resource group from the managed environment's ID, the location from the stack ----------------


def test_an_azure_job_naming_its_environment_by_resource_id_needs_no_group_or_region(cli, tmp_path):
    stacks = {"hooli-prod": "config:\n  dativo-infra:tenant: hooli\n  dativo-infra:environment: prod\n  azure-native:location: westeurope\n"}
    root = project(tmp_path, stacks, {"hooli/ingest.yaml": CONTAINER_APPS.format(tenant="hooli")})
    code, out, err = cli("validate", root / "jobs", "--project-dir", root)
    assert code == 0, out + err
    variables = export(cli, root, "hooli/ingest.yaml")
    assert (variables["resource_group"], variables["environment_name"], variables["region"]) == ("hooli-etl", "hooli-env", "westeurope")
    planned = plan(cli, root, "hooli")
    (job,) = of_type(planned, "azure-native:app:Job")
    assert (job["inputs"]["resourceGroupName"], job["inputs"]["location"]) == ("hooli-etl", "westeurope")
    assert job["inputs"]["environmentId"].endswith("/resourceGroups/hooli-etl/providers/Microsoft.App/managedEnvironments/hooli-env")


# --- 6. Kubernetes requests above limits ----------------------------------------------------------------------


def test_kubernetes_requests_above_limits_are_rejected_before_anything_is_exported(cli, tmp_path):
    job = ("tenant_id: initech\nenvironment: prod\ninfrastructure:\n  provider: gcp\n  runtime: {type: kubernetes}\n"
           "  compute: {cpu: \"1\", memory: 2Gi}\n  dagster:\n    resource_requirements: {request_cpu: \"2\", request_memory: 4Gi}\n")
    root = project(tmp_path, {}, {"initech/k8s.yaml": job})
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root)
    assert code == 2
    assert "infrastructure.dagster.resource_requirements.request_cpu: cpu request 2000m is above the limit 1000m (compute.cpu)" in out
    assert "request_memory: memory request 4096Mi is above the limit 2048Mi (compute.memory)" in out
    code, _, _ = cli("terraform", "export", "--all", root / "jobs", "--output-dir", tmp_path / "out", "--project-dir", root)
    assert code == 2 and not (tmp_path / "out" / "initech").exists()


# --- 7. the AWS tag limit counts the security group's Name -----------------------------------------------------


@pytest.mark.parametrize("user_tags,ok", [(45, True), (46, False)])  # 4 defaults + 45 + Name = 50
def test_the_aws_tag_limit_counts_the_name_the_security_group_gets(cli, tmp_path, user_tags, ok):
    job = ECS.format(tenant="initech", region="", image="") + "  tags:\n" + "".join(f"    t{i:02d}: v\n" for i in range(user_tags))
    root = project(tmp_path, {}, {"initech/orders.yaml": job})
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root)
    assert (code == 0) is ok, out
    if ok:
        (sg,) = of_type(plan(cli, root, "initech"), "aws:ec2/securityGroup:SecurityGroup")
        assert len(sg["inputs"]["tags"]) == 50  # the most AWS allows, Name included


# --- without the Pulumi extra, plan and the operations say what to install ------------------------------------


@pytest.mark.parametrize("command", [["plan", "--tenant", "acme", "--environment", "prod"], ["plan", "--all"],
                                     ["up", "--tenant", "acme", "--environment", "prod"]])
def test_without_the_pulumi_sdks_the_command_says_which_extra_to_install(cli, monkeypatch, command):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("pulumi") else real(name, *a))
    code, out, _ = cli(*command, "--json")
    assert code == 2
    (problem,) = json.loads(out)["errors"]
    assert "pip install 'dativo-infra[pulumi]'" in problem["message"] and problem["file"].startswith("pulumi")


# --- settings that must never silently become something else (from an adversarial review) ------------------------


def test_a_default_tenant_in_pulumi_yaml_never_picks_another_stack(cli, tmp_path):
    root = project(tmp_path, {}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=""),
                                  "hooli/orders.yaml": ECS.format(tenant="hooli", region="", image="")})
    text = (root / "Pulumi.yaml").read_text().replace("config:\n", "config:\n  dativo-infra:tenant:\n    type: string\n    default: initech\n", 1)
    (root / "Pulumi.yaml").write_text(text)
    assert plan(cli, root, "hooli")["tenant"] == "hooli"


@pytest.mark.parametrize("line,message", [
    ("  dativo-infra:image:\n    secure: v1:abc\n", "is a Pulumi secret (secure:)"),
    ("  aws:region: [us-west-2]\n", "must be a single value, got list"),
    ("  dativo-infra:image: 'foo bar; rm -rf /'\n", "is not an image reference"),
])
def test_a_stack_value_of_the_wrong_kind_is_an_error_never_its_python_text(cli, tmp_path, line, message):
    stacks = {"initech-prod": "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n" + line}
    root = project(tmp_path, stacks, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image="")})
    for args in (["validate", root / "jobs"], ["terraform", "export", "--config", root / "jobs" / "initech" / "orders.yaml", "--output", "-"],
                 ["plan", "--tenant", "initech", "--environment", "prod", "--jobs-dir", root / "jobs"]):
        code, out, err = cli(*args, "--project-dir", root)
        assert code == 2 and message in out + err, (args, out + err)
        assert '= "{' not in out and "= \"['" not in out  # never exported as the value's Python text


def test_a_job_image_with_spaces_is_refused(cli, tmp_path):
    root = project(tmp_path, {}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image="    image: 'foo bar'\n")})
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root)
    assert code == 2 and "infrastructure.runtime.image: 'foo bar' is not an image reference" in out


def test_a_misspelt_shared_job_name_is_an_error_with_a_did_you_mean(cli, tmp_path):
    stack = "config:\n  dativo-infra:tenant: initech\n  dativo-infra:environment: prod\n  dativo-infra:sharedJobs: [audit, comon]\n"
    root = project(tmp_path, {"initech-prod": stack}, {"initech/orders.yaml": ECS.format(tenant="initech", region="", image=""),
                                                       "shared/common.yaml": SHARED.format(n=1), "shared/audit.yaml": SHARED.format(n=2)})
    for args in (["validate", root / "jobs"], ["plan", "--tenant", "initech", "--environment", "prod", "--jobs-dir", root / "jobs"]):
        code, out, err = cli(*args, "--project-dir", root)
        assert code == 2, (args, out + err)
        assert "dativo-infra:sharedJobs: names no shared ${TENANT_ID} job: 'comon' (did you mean 'common'?)" in out + err
