"""The Pulumi program on GCP Cloud Run jobs, under the SDK's mock runtime with the real pulumi-gcp classes."""
from __future__ import annotations

import json
import re
import shutil
import unicodedata

import pytest

from dativo_infra.jobs.sizes import CLOUD_RUN_CPUS, CLOUD_RUN_MEMORY_MIB, CLOUD_RUN_MIN_CPU_FOR_MEMORY
from dativo_infra.plan import MOCK_PROJECT, plan_stack

from .conftest import JOBS
from .plans import accepts, custom, of_type, plan, stack_settings

JOB = "stripe-customers-gcp"
VARIANT = "orders-gcp-owned"
RUNNER = f"acme-prod-stripe-68e8a6cc-run@{MOCK_PROJECT}.iam.gserviceaccount.com"
EXISTING = "etl-runner@acme-project.iam.gserviceaccount.com"
KEY = "projects/acme-project/locations/us-central1/keyRings/dativo/cryptoKeys/etl-data"

# a second job: it owns its bucket, runs as an existing service account, has no schedule and no VPC
VARIANT_YAML = f"""\
tenant_id: acme
environment: prod
asset: postgres_orders
asset_path: /app/assets/postgres/v1.0/orders.yaml
infrastructure:
  provider: gcp
  region: europe-west1
  runtime: {{type: cloud_run, service_account: {EXISTING}}}
  compute: {{cpu: "4", memory: "10Gi", max_runtime_seconds: 7200}}
  storage: {{bucket: acme-orders-gcp, prefix: raw/orders, kms_key_id: "{KEY}", create_bucket: true}}
retry_config: {{max_attempts: 1}}
"""

CLOUD_RUN_SCHEDULED = {
    "gcp:serviceaccount/account:Account", "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:cloudrunv2/job:Job",
    "gcp:cloudrunv2/jobIamMember:JobIamMember", "gcp:cloudscheduler/job:Job",
}


@pytest.fixture(scope="module")
def gcp_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    shutil.copytree(JOBS / "assets", root / "assets")
    (root / "acme").mkdir()
    shutil.copy(JOBS / "acme/stripe_customers_gcp.yaml", root / "acme")
    (root / "acme/orders_gcp_owned.yaml").write_text(VARIANT_YAML)
    return str(root)


@pytest.fixture(scope="module")
def acme(gcp_tree):
    return plan("acme", "prod", gcp_tree)


def test_expected_resources_for_a_scheduled_job(acme):
    resources = custom(acme.for_job(JOB))
    assert {r.type for r in resources} == CLOUD_RUN_SCHEDULED
    accounts = sorted(r.inputs["accountId"] for r in of_type(resources, "gcp:serviceaccount/account:Account"))
    assert accounts == ["acme-prod-stripe-68e8a6cc-inv", "acme-prod-stripe-68e8a6cc-run"]
    for account_id in accounts:  # GCP service account IDs: 6–30 characters, [a-z][-a-z0-9]*[a-z0-9]
        assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account_id)


def test_owned_bucket_existing_identity_and_no_schedule(acme):
    resources = custom(acme.for_job(VARIANT))
    assert {r.type for r in resources} == {
        "gcp:storage/bucket:Bucket", "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:cloudrunv2/job:Job"}
    job = of_type(resources, "gcp:cloudrunv2/job:Job")[0]
    assert job.inputs["template"]["template"]["serviceAccount"] == EXISTING
    assert "vpcAccess" not in job.inputs["template"]["template"]
    assert acme.outputs[VARIANT]["scheduler_job_name"] is None


def test_created_bucket_is_private_versioned_encrypted_and_protected(acme):
    bucket = of_type(acme.for_job(VARIANT), "gcp:storage/bucket:Bucket")[0]
    assert bucket.protect and bucket.retain_on_delete
    assert bucket.inputs["name"] == "acme-orders-gcp" and bucket.inputs["location"] == "europe-west1"
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.inputs["encryption"] == {"defaultKmsKeyName": KEY}
    # Cloud Storage's own service agent encrypts with the key, so it is granted the key too
    kms = {r.inputs["member"] for r in of_type(acme.for_job(VARIANT), "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert kms == {f"serviceAccount:{EXISTING}", "serviceAccount:service-000000000000@gs-project-accounts.iam.gserviceaccount.com"}


def _gcp_label_ok(key: str, value: str) -> bool:
    # docs/cloud-limits.md §1 GCP labels: lowercase letters (international too), digits, '_' and '-'; keys start with a letter
    def chars(text):
        return all(c.isdigit() or c in "_-" or unicodedata.category(c) in ("Ll", "Lo") for c in text)

    return 1 <= len(key) <= 63 and len(value) <= 63 and chars(key) and chars(value) and unicodedata.category(key[0]) in ("Ll", "Lo")


def test_every_labelable_resource_has_exactly_the_jobs_labels_and_nothing_else_has_any(acme):
    checked = 0
    for r in custom(acme.resources):
        job_labels = acme.outputs[r.job]["tags"]
        if accepts(r.type, "labels"):
            assert r.inputs.get("labels") == job_labels, r.name
            assert len(job_labels) <= 64 and all(_gcp_label_ok(k, v) for k, v in job_labels.items())
            checked += 1
        else:
            assert "labels" not in r.inputs, f"{r.type} takes no labels but got some"
        assert "tags" not in r.inputs, f"{r.name}: GCP tags are tag bindings, not labels"
    assert checked == 3  # two Cloud Run jobs and the bucket


def _condition_prefix(expression: str) -> str:
    match = re.fullmatch(r'resource\.name\.startsWith\((".*")\)', expression)
    assert match, expression
    return json.loads(match.group(1))


def test_object_access_is_limited_to_the_prefix(acme):
    grants = of_type(acme.for_job(JOB), "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert {(g.inputs["bucket"], g.inputs["role"], g.inputs["member"]) for g in grants} == {
        ("acme-lake-gcp", "roles/storage.objectAdmin", f"serviceAccount:{RUNNER}"),
        ("acme-lake-gcp", "roles/storage.legacyBucketReader", f"serviceAccount:{RUNNER}"),
    }
    objects = next(g for g in grants if g.inputs["role"] == "roles/storage.objectAdmin")
    prefix = _condition_prefix(objects.inputs["condition"]["expression"])
    assert prefix == "projects/_/buckets/acme-lake-gcp/objects/raw/stripe/customers/"
    # the trailing slash keeps sibling prefixes out
    assert "projects/_/buckets/acme-lake-gcp/objects/raw/stripe/customers/2024/part-0.parquet".startswith(prefix)
    assert not "projects/_/buckets/acme-lake-gcp/objects/raw/stripe/customers-archive/x".startswith(prefix)
    lister = next(g for g in grants if g.inputs["role"] == "roles/storage.legacyBucketReader")
    assert "condition" not in lister.inputs  # object listing is checked on the bucket (see gcp_iam)
    kms = of_type(acme.for_job(JOB), "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert [(k.inputs["cryptoKeyId"], k.inputs["role"]) for k in kms] == [(KEY, "roles/cloudkms.cryptoKeyEncrypterDecrypter")]


def test_no_grant_to_the_public_or_to_a_whole_project(acme):
    members = [r.inputs["member"] for r in custom(acme.resources) if "member" in r.inputs]
    assert members and all(m.startswith("serviceAccount:") for m in members)
    assert not any(r.type.startswith(("gcp:projects/", "gcp:organizations/")) for r in acme.resources)


def test_cloud_run_job_runs_this_job_file_within_cloud_run_limits(acme):
    job = of_type(acme.for_job(JOB), "gcp:cloudrunv2/job:Job")[0]
    assert (job.inputs["name"], job.inputs["location"], job.inputs["deletionProtection"]) == ("acme-prod-stripe-68e8a6cc", "us-central1", False)
    template = job.inputs["template"]["template"]
    container = template["containers"][0]
    assert container["commands"] == ["dativo", "run", "--config", "/app/jobs/acme/stripe_customers_gcp.yaml", "--mode", "self_hosted"]
    assert (template["timeout"], template["maxRetries"], template["serviceAccount"]) == ("3600s", 2, RUNNER)
    assert template["vpcAccess"] == {"egress": "PRIVATE_RANGES_ONLY", "networkInterfaces": [{
        "network": "projects/acme-project/global/networks/dativo-vpc",
        "subnetwork": "projects/acme-project/regions/us-central1/subnetworks/dativo-subnet"}]}
    for r in of_type(acme.resources, "gcp:cloudrunv2/job:Job"):  # docs/cloud-limits.md §2: CPU 1/2/4/6/8, 512 MiB–32 GiB, CPU floor per memory
        limits = r.inputs["template"]["template"]["containers"][0]["resources"]["limits"]
        cpu, memory = int(limits["cpu"]), int(re.fullmatch(r"(\d+)Mi", limits["memory"]).group(1))
        assert cpu in CLOUD_RUN_CPUS and CLOUD_RUN_MEMORY_MIB[0] <= memory <= CLOUD_RUN_MEMORY_MIB[1]
        assert all(cpu >= need for above, need in CLOUD_RUN_MIN_CPU_FOR_MEMORY if memory > above)
    variant = of_type(acme.for_job(VARIANT), "gcp:cloudrunv2/job:Job")[0].inputs["template"]["template"]
    assert variant["containers"][0]["resources"]["limits"] == {"cpu": "4", "memory": "10240Mi"}  # 10 GiB needs 4 CPUs
    assert (variant["timeout"], variant["maxRetries"]) == ("7200s", 0)


def test_scheduler_runs_the_job_with_its_own_invoker(acme):
    resources = acme.for_job(JOB)
    scheduler = of_type(resources, "gcp:cloudscheduler/job:Job")[0].inputs
    invoker = f"acme-prod-stripe-68e8a6cc-inv@{MOCK_PROJECT}.iam.gserviceaccount.com"
    assert (scheduler["schedule"], scheduler["timeZone"], scheduler["region"]) == ("15 * * * *", "UTC", "us-central1")
    assert scheduler["httpTarget"] == {
        "httpMethod": "POST",
        "uri": f"https://run.googleapis.com/v2/projects/{MOCK_PROJECT}/locations/us-central1/jobs/acme-prod-stripe-68e8a6cc:run",
        "oauthToken": {"serviceAccountEmail": invoker, "scope": "https://www.googleapis.com/auth/cloud-platform"}}
    binding = of_type(resources, "gcp:cloudrunv2/jobIamMember:JobIamMember")[0].inputs
    assert binding == {"name": "acme-prod-stripe-68e8a6cc", "location": "us-central1", "role": "roles/run.invoker",
                       "member": f"serviceAccount:{invoker}"}
    # the invoker can start the job and touch no data
    assert not any(r.inputs.get("member") == f"serviceAccount:{invoker}" for r in resources if "IAMMember" in r.type)


def test_outputs(acme):
    out = acme.outputs[JOB]
    assert out["service_account_email"] == RUNNER and out["bucket_name"] == "acme-lake-gcp"
    assert out["job_id"] == f"projects/{MOCK_PROJECT}/locations/us-central1/jobs/acme-prod-stripe-68e8a6cc"
    assert out["dagster"] == {"project": MOCK_PROJECT, "region": "us-central1", "job_name": "acme-prod-stripe-68e8a6cc",
                              "retry_policy": {"max_retries": 2, "delay": 0}}
    assert acme.outputs[VARIANT]["bucket_name"] == "acme-orders-gcp"


def test_planning_twice_gives_the_same_plan(gcp_tree):
    first = plan_stack(stack_settings("acme", "prod", jobs_dir=gcp_tree)).as_dict()
    second = plan_stack(stack_settings("acme", "prod", jobs_dir=gcp_tree)).as_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
