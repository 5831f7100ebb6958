"""The Pulumi program on Azure Container Apps jobs, under the SDK's mock runtime with the real pulumi-azure-native classes."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from dativo_infra.jobs.sizes import CONTAINER_APPS_PAIRS, parse_memory
from dativo_infra.plan import MOCK_SUBSCRIPTION, plan_stack

from .conftest import JOBS
from .plans import accepts, custom, one, plan, stack_settings

JOB = "salesforce-accounts-azure"
VARIANT = "orders-azure-owned"
RG = "rg-globex-data"
EXISTING = f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/etl-runner"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
# the data actions of Storage Blob Data Contributor (Azure built-in roles reference)
CONTRIBUTOR_DATA_ACTIONS = {f"{BLOBS}/{a}" for a in ("read", "write", "add/action", "delete", "move/action")}

# a second job: it owns its container, runs as an existing identity, and is started manually (by Dagster)
VARIANT_YAML = f"""\
tenant_id: globex
environment: prod
asset: postgres_orders
asset_path: /app/assets/postgres/v1.0/orders.yaml
infrastructure:
  provider: azure
  region: westeurope
  resource_group: {RG}
  runtime: {{type: container_apps, cluster_name: cae-globex-prod, service_account: "{EXISTING}"}}
  compute: {{cpu: "0.5", memory: "1Gi", max_runtime_seconds: 900}}
  storage: {{bucket: globexlake/orders, prefix: raw/orders, create_bucket: true}}
"""


@pytest.fixture(scope="module")
def azure_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    shutil.copytree(JOBS / "assets", root / "assets")
    (root / "globex").mkdir()
    shutil.copy(JOBS / "globex/salesforce_accounts_azure.yaml", root / "globex")
    (root / "globex/orders_azure_owned.yaml").write_text(VARIANT_YAML)
    return str(root)


@pytest.fixture(scope="module")
def globex(azure_tree):
    return plan("globex", "prod", azure_tree)


def test_expected_resources(globex):
    assert {r.type for r in custom(globex.for_job(JOB))} == {
        "azure-native:managedidentity:UserAssignedIdentity", "azure-native:authorization:RoleAssignment", "azure-native:app:Job"}
    assert {r.type for r in custom(globex.for_job(VARIANT))} == {
        "azure-native:storage:BlobContainer", "azure-native:authorization:RoleAssignment", "azure-native:app:Job"}


def _azure_tags_ok(tags: dict) -> bool:
    # docs/cloud-limits.md §1 Azure: ≤ 50 tags, names ≤ 512 (128 on storage accounts) without < > % & \ ? /, values ≤ 256,
    # names case-insensitive (so no two may differ only in case)
    names_ok = all(len(k) <= 128 and not set(k) & set("<>%&\\?/") for k in tags)
    return len(tags) <= 50 and names_ok and all(len(v) <= 256 for v in tags.values()) and len({k.lower() for k in tags}) == len(tags)


def test_every_taggable_resource_has_exactly_the_jobs_tags_and_nothing_else_has_any(globex):
    checked = 0
    for r in custom(globex.resources):
        job_tags = globex.outputs[r.job]["tags"]
        if accepts(r.type, "tags"):
            assert r.inputs.get("tags") == job_tags, r.name
            assert _azure_tags_ok(job_tags)
            checked += 1
        else:
            assert "tags" not in r.inputs, f"{r.type} takes no tags but got some"
    assert checked == 3  # the identity and the two jobs


def test_role_assignment_is_scoped_to_the_container_and_limited_to_the_prefix(globex):
    identity = one(globex.for_job(JOB), "azure-native:managedidentity:UserAssignedIdentity")
    role = one(globex.for_job(JOB), "azure-native:authorization:RoleAssignment").inputs
    assert role["scope"] == (f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Storage"
                             "/storageAccounts/globexlake/blobServices/default/containers/lake")
    assert role["roleDefinitionId"] == f"/subscriptions/{MOCK_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    assert role["principalId"] == globex.outputs[JOB]["identity_principal_id"]
    assert globex.outputs[JOB]["identity_id"].endswith(f"/userAssignedIdentities/{identity.inputs['resourceName']}")
    assert (role["principalType"], role["conditionVersion"]) == ("ServicePrincipal", "2.0")
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", role["roleAssignmentName"])
    condition = role["condition"]
    assert condition.count("(") == condition.count(")")
    # every data action of the role is guarded, every path or listing prefix is the job's, in the job's container only
    assert set(re.findall(r"ActionMatches\{'([^']+)'\}", condition)) == CONTRIBUTOR_DATA_ACTIONS
    assert re.findall(r"@Resource\[[^\]]+blobs:path\] StringStartsWith '([^']*)'", condition) == ["raw/salesforce/accounts/"]
    assert re.findall(r"@Request\[[^\]]+blobs:prefix\] StringStartsWith '([^']*)'", condition) == ["raw/salesforce/accounts/"]
    assert set(re.findall(r"containers:name\] StringEquals '([^']*)'", condition)) == {"lake"}


def test_job_in_the_managed_environment_with_schedule_limits_and_identity(globex):
    job = one(globex.for_job(JOB), "azure-native:app:Job").inputs
    assert job["environmentId"] == f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.App/managedEnvironments/cae-globex-prod"
    assert (job["jobName"], job["resourceGroupName"], job["location"]) == ("globex-prod-sales-7bbf0097", RG, "westeurope")
    assert job["configuration"] == {
        "triggerType": "Schedule", "replicaTimeout": 5400, "replicaRetryLimit": 1,
        "scheduleTriggerConfig": {"cronExpression": "0 4 * * *", "parallelism": 1, "replicaCompletionCount": 1}}
    assert job["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [globex.outputs[JOB]["identity_id"]]}
    container = job["template"]["containers"][0]
    assert container["command"] == ["dativo", "run", "--config", "/app/jobs/globex/salesforce_accounts_azure.yaml", "--mode", "self_hosted"]
    assert container["env"] == [{"name": "AZURE_CLIENT_ID", "value": globex.outputs[JOB]["identity_client_id"]}]


def test_every_job_has_a_valid_container_apps_cpu_memory_pair(globex):
    jobs = [r for r in globex.resources if r.type == "azure-native:app:Job"]
    assert len(jobs) == 2
    for r in jobs:  # docs/cloud-limits.md §2: the Consumption pairs (0.25 vCPU steps, 2 GiB per vCPU)
        resources = r.inputs["template"]["containers"][0]["resources"]
        assert (round(resources["cpu"] * 1000), parse_memory(resources["memory"])) in CONTAINER_APPS_PAIRS


def test_manual_job_as_an_existing_identity_with_an_owned_container(globex):
    resources = globex.for_job(VARIANT)
    job = one(resources, "azure-native:app:Job").inputs
    assert job["configuration"]["triggerType"] == "Manual"
    assert job["configuration"]["manualTriggerConfig"] == {"parallelism": 1, "replicaCompletionCount": 1}
    assert "scheduleTriggerConfig" not in job["configuration"]
    assert job["identity"]["userAssignedIdentities"] == [EXISTING]
    role = one(resources, "azure-native:authorization:RoleAssignment").inputs
    assert role["principalId"] == globex.outputs[VARIANT]["identity_principal_id"]  # looked up from the identity's ID
    assert role["scope"].endswith("/storageAccounts/globexlake/blobServices/default/containers/orders")
    container = one(resources, "azure-native:storage:BlobContainer")
    assert container.protect and container.retain_on_delete
    assert container.inputs == {"accountName": "globexlake", "containerName": "orders", "resourceGroupName": RG, "publicAccess": "None"}


def test_outputs(globex):
    out = globex.outputs[JOB]
    assert out["job_id"].endswith("/providers/Microsoft.App/jobs/globex-prod-sales-7bbf0097")
    assert (out["storage_account"], out["storage_container"]) == ("globexlake", "lake")
    assert out["dagster"] == {"resource_group": RG, "job_name": "globex-prod-sales-7bbf0097", "retry_policy": {"max_retries": 1, "delay": 0}}


def test_planning_twice_gives_the_same_plan(azure_tree):
    first = plan_stack(stack_settings("globex", "prod", jobs_dir=azure_tree)).as_dict()
    second = plan_stack(stack_settings("globex", "prod", jobs_dir=azure_tree)).as_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
