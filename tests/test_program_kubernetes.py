"""The Pulumi program on Kubernetes (EKS, GKE, AKS), under the SDK's mock runtime with the real provider classes.

Every Kubernetes object the plan would create is checked against the
Kubernetes API schemas (kubernetes-validate), and the dagster-k8s/config tag
by dagster-k8s's own parser and job builder.
"""
from __future__ import annotations

import json
import re
import shutil

import kubernetes
import kubernetes_validate
import pytest
from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job, get_user_defined_k8s_config
from moto.iam.access_control import IAMPolicy, PermissionResult

from dativo_infra.plan import MOCK_AKS_ISSUER, MOCK_EKS_ISSUER, MOCK_PROJECT, plan_stack
from dativo_infra.program import StackError

from .conftest import JOBS
from .plans import accepts, custom, one, plan, stack_settings

K8S_VERSION = "1.33"
EKS, GKE, AKS, SHARED = "hubspot-contacts-kubernetes", "salesforce-accounts-gke", "hubspot-contacts-aks", "postgres-orders-shared-kubernetes"
SHARED_ECS = "stripe-customers-shared"
K8S_OBJECTS = {"kubernetes:core/v1:ServiceAccount", "kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:batch/v1:CronJob"}
EXPECTED = {
    EKS: K8S_OBJECTS | {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"},
    GKE: K8S_OBJECTS | {"gcp:serviceaccount/account:Account", "gcp:serviceaccount/iAMMember:IAMMember",
                        "gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"},
    AKS: K8S_OBJECTS | {"azure-native:managedidentity:UserAssignedIdentity", "azure-native:managedidentity:FederatedIdentityCredential",
                        "azure-native:authorization:RoleAssignment"},
    SHARED: K8S_OBJECTS | {"kubernetes:core/v1:Namespace", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"},
}
EKS_PROVIDER = MOCK_EKS_ISSUER.removeprefix("https://")


# jobs of a third tenant that own their storage, one per cloud behind the cluster
OWNED = {
    "orders_eks_owned.yaml": "provider: aws\n  runtime: {type: kubernetes, cluster_name: eks, namespace: etl}\n"
                             "  storage: {bucket: initech-orders, prefix: raw/orders, create_bucket: true}",
    "orders_gke_owned.yaml": "provider: gcp\n  region: europe-west1\n  runtime: {type: kubernetes, namespace: etl}\n"
                             "  storage: {bucket: initech-orders-gcp, prefix: raw/orders, create_bucket: true}",
    "orders_aks_owned.yaml": "provider: azure\n  resource_group: rg-initech\n  runtime: {type: kubernetes, cluster_name: aks, namespace: etl}\n"
                             "  storage: {bucket: initechlake/orders, prefix: raw/orders, create_bucket: true}",
}


@pytest.fixture(scope="module")
def k8s_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    shutil.copytree(JOBS / "assets", root / "assets")
    for rel in ("acme/hubspot_contacts_kubernetes.yaml", "acme/salesforce_accounts_gke.yaml", "globex/hubspot_contacts_aks.yaml",
                "shared/postgres_orders_shared_kubernetes.yaml", "shared/stripe_customers_shared.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(JOBS / rel, root / rel)
    (root / "initech").mkdir()
    for name, infrastructure in OWNED.items():
        (root / "initech" / name).write_text(
            "tenant_id: initech\nenvironment: prod\nasset: postgres_orders\nasset_path: /app/assets/postgres/v1.0/orders.yaml\n"
            f"infrastructure:\n  {infrastructure}\n")
    return str(root)


@pytest.fixture(scope="module")
def plans(k8s_tree):
    return {tenant: plan(tenant, "prod", k8s_tree) for tenant in ("acme", "globex")}


def _jobs(plans):
    """(plan, job) for every Kubernetes job of both tenants."""
    return [(p, job) for p in plans.values() for job in sorted({r.job for r in p.resources if r.job}) if job != SHARED_ECS]


def _manifest(r) -> dict:
    """The object as `kubectl apply` would send it: the recorded inputs are its fields, apiVersion and kind included."""
    assert {"apiVersion", "kind", "metadata"} <= set(r.inputs), r.name
    return dict(r.inputs)


def _objects(plans):
    return [r for p in plans.values() for r in p.resources if r.custom and r.type.startswith("kubernetes:")]


def _cron_job(p, job):
    return one(p.for_job(job), "kubernetes:batch/v1:CronJob").inputs


def _pod(p, job):
    return _cron_job(p, job)["spec"]["jobTemplate"]["spec"]["template"]


def test_expected_resources_per_cloud(plans):
    seen = set()
    for p, job in _jobs(plans):
        assert {r.type for r in custom(p.for_job(job))} == EXPECTED[job], job
        seen.add(job)
    assert seen == set(EXPECTED)


def test_every_kubernetes_object_is_valid_against_the_api_schemas(plans):
    objects = _objects(plans)
    assert len(objects) == 17  # 5 jobs (the shared one once per tenant) × 3 objects, and the shared job's namespaces
    for r in objects:
        assert kubernetes_validate.validate(_manifest(r), K8S_VERSION, strict=True) == K8S_VERSION


def test_an_invalid_object_is_rejected_by_the_same_check(plans):
    cron_job = _manifest(next(r for r in _objects(plans) if r.type.endswith("CronJob")))
    broken = json.loads(json.dumps(cron_job))
    broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


# docs/cloud-limits.md §1 Kubernetes labels (apimachinery validation.go)
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _label_ok(key: str, value: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    if prefix in ("kubernetes.io", "k8s.io") or prefix.endswith((".kubernetes.io", ".k8s.io")) and prefix != "app.kubernetes.io":
        return False
    return len(name) <= 63 and bool(_NAME.fullmatch(name)) and len(value) <= 63 and (not value or bool(_NAME.fullmatch(value)))


def test_every_object_and_pod_template_carries_the_jobs_labels_and_they_are_valid(plans):
    checked = 0
    for p, job in _jobs(plans):
        labels = p.outputs[job]["labels"]
        assert labels and all(_label_ok(k, v) for k, v in labels.items()), labels
        for r in custom(p.for_job(job)):
            if r.type.startswith("kubernetes:") and accepts(r.type, "metadata"):
                assert r.inputs["metadata"]["labels"] == labels, r.name
                checked += 1
        cron_job = _cron_job(p, job)
        assert cron_job["spec"]["jobTemplate"]["metadata"]["labels"] == labels
        pod_labels = _pod(p, job)["metadata"]["labels"]
        extra = {"azure.workload.identity/use": "true"} if job == AKS else {}
        assert pod_labels == {**labels, **extra}
        assert all(_label_ok(k, v) for k, v in pod_labels.items())
    assert checked == 17


def test_cloud_side_resources_carry_the_jobs_cloud_tags(plans):
    checked = 0
    for p, job in _jobs(plans):
        tags = p.outputs[job]["tags"]
        for r in custom(p.for_job(job)):
            if r.type.startswith("kubernetes:"):
                assert "tags" not in r.inputs
                continue
            name = "labels" if r.type.startswith("gcp:") else "tags"
            if accepts(r.type, name):
                assert r.inputs[name] == tags, r.name
                checked += 1
            else:
                assert name not in r.inputs, f"{r.type} takes no {name} but got some"
    assert checked == 4  # the IAM roles (EKS, shared ×2) and the AKS managed identity; GCP's IAM takes no labels


def test_pods_are_restricted_and_sized_from_the_dagster_requirements(plans):
    for p, job in _jobs(plans):
        pod = _pod(p, job)["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"] == {
            "runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "privileged": False,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
        assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/tmp"}]
        assert pod["volumes"] == [{"name": "scratch", "emptyDir": {}}]
        assert pod["serviceAccountName"] == p.outputs[job]["service_account_name"]
        assert pod["restartPolicy"] == "Never" and "hostNetwork" not in pod and "ports" not in container
        assert pod["automountServiceAccountToken"] is False
    acme = plans["acme"]
    assert _pod(acme, EKS)["spec"]["containers"][0]["resources"] == {  # dagster.resource_requirements
        "requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert _pod(acme, GKE)["spec"]["containers"][0]["resources"] == {  # compute, when there are none
        "requests": {"cpu": "0.5", "memory": "1Gi"}, "limits": {"cpu": "0.5", "memory": "1Gi"}}


def test_cron_jobs_schedule_deadline_and_retries(plans):
    acme, globex = plans["acme"], plans["globex"]
    expected = [  # plan, job, schedule, time zone, suspended, activeDeadlineSeconds, backoffLimit
        (acme, EKS, "30 3 * * *", "UTC", False, 3600, 3),
        (acme, GKE, "0 6 * * 1-5", "Europe/Berlin", False, 2700, 1),
        (globex, AKS, "0 */6 * * *", "UTC", False, 3600, 3),
        # no schedule: a suspended template for `kubectl create job --from=cronjob/...` and for Dagster
        (acme, SHARED, "0 0 1 1 *", "UTC", True, 1800, 2),
    ]
    for p, job, schedule, zone, suspended, deadline, retries in expected:
        spec = _cron_job(p, job)["spec"]
        assert (spec["schedule"], spec["timeZone"], spec["suspend"], spec["concurrencyPolicy"]) == (schedule, zone, suspended, "Forbid")
        assert (spec["jobTemplate"]["spec"]["activeDeadlineSeconds"], spec["jobTemplate"]["spec"]["backoffLimit"]) == (deadline, retries)


def test_network_policy_denies_all_ingress_to_the_jobs_pods(plans):
    for p, job in _jobs(plans):
        policy = one(p.for_job(job), "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs
        assert policy["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in policy["spec"]
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert selector and selector.items() <= _pod(p, job)["metadata"]["labels"].items()
        assert policy["metadata"]["namespace"] == _cron_job(p, job)["metadata"]["namespace"]


def _trust(p, job) -> dict:
    role = one(p.for_job(job), "aws:iam/role:Role")
    return json.loads(role.inputs["assumeRolePolicy"])


def test_eks_role_is_assumable_only_by_the_jobs_service_account(plans):
    acme = plans["acme"]
    account = one(acme.for_job(EKS), "kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    role_arn = acme.outputs[EKS]["cloud_identity"]
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": role_arn}
    [statement] = _trust(acme, EKS)["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{EKS_PROVIDER}"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{EKS_PROVIDER}:sub": f"system:serviceaccount:{account['namespace']}:{account['name']}",
        f"{EKS_PROVIDER}:aud": "sts.amazonaws.com"}}
    storage = json.loads(one(acme.for_job(EKS), "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    resources = {s["Resource"] for s in storage["Statement"]}
    assert resources == {"arn:aws:s3:::acme-data-lake/raw/hubspot/contacts/*", "arn:aws:s3:::acme-data-lake",
                         "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"}


def test_gke_service_account_acts_only_for_the_jobs_kubernetes_service_account(plans):
    acme = plans["acme"]
    resources = acme.for_job(GKE)
    account = one(resources, "kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    account_id = one(resources, "gcp:serviceaccount/account:Account").inputs["accountId"]
    assert account_id == f"{acme.outputs[GKE]['service_account_name']}-k8s" and len(account_id) <= 30
    email = f"{account_id}@{MOCK_PROJECT}.iam.gserviceaccount.com"
    assert acme.outputs[GKE]["cloud_identity"] == email
    assert account["annotations"] == {"iam.gke.io/gcp-service-account": email}
    binding = one(resources, "gcp:serviceaccount/iAMMember:IAMMember").inputs
    assert binding == {"serviceAccountId": f"projects/{MOCK_PROJECT}/serviceAccounts/{email}", "role": "roles/iam.workloadIdentityUser",
                       "member": f"serviceAccount:{MOCK_PROJECT}.svc.id.goog[{account['namespace']}/{account['name']}]"}
    grants = [r.inputs for r in resources if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"]
    assert {(g["bucket"], g["role"], g["member"]) for g in grants} == {
        ("acme-lake-gcp", "roles/storage.objectAdmin", f"serviceAccount:{email}"),
        ("acme-lake-gcp", "roles/storage.legacyBucketReader", f"serviceAccount:{email}")}
    condition = next(g["condition"]["expression"] for g in grants if g["role"] == "roles/storage.objectAdmin")
    assert condition == 'resource.name.startsWith("projects/_/buckets/acme-lake-gcp/objects/raw/salesforce/accounts/")'


def test_aks_identity_is_federated_only_with_the_jobs_service_account(plans):
    globex = plans["globex"]
    resources = globex.for_job(AKS)
    account = one(resources, "kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    assert account["name"] == "hubspot-runner"  # runtime.service_account names the Kubernetes ServiceAccount
    client_id = globex.outputs[AKS]["cloud_identity"]
    assert account["annotations"] == {"azure.workload.identity/client-id": client_id}
    identity = one(resources, "azure-native:managedidentity:UserAssignedIdentity").inputs
    assert identity["location"] == "westeurope"  # no region in the job: the stack's azure-native:location (Pulumi.globex-prod.yaml)
    credential = one(resources, "azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert credential["resourceName"] == identity["resourceName"]
    assert (credential["issuer"], credential["subject"], credential["audiences"]) == (
        MOCK_AKS_ISSUER, "system:serviceaccount:globex-etl:hubspot-runner", ["api://AzureADTokenExchange"])
    role = one(resources, "azure-native:authorization:RoleAssignment").inputs
    assert role["scope"].endswith("/storageAccounts/globexlake/blobServices/default/containers/lake")
    assert set(re.findall(r"StringStartsWith '([^']*)'", role["condition"])) == {"raw/hubspot/contacts/"}


def _granted_policies(p, job) -> list[dict]:
    return [json.loads(r.inputs["policy"]) for r in p.for_job(job) if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name.endswith(("task-policy", "role-policy"))]


def _list_prefixes(policies) -> list[str]:
    return [pattern for doc in policies for s in doc["Statement"] if s["Action"] == "s3:ListBucket"
            for pattern in s["Condition"]["StringLike"]["s3:prefix"]]


def _like(pattern: str, value: str) -> bool:
    # IAM StringLike: '*' any run of characters, '?' one character
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), value) is not None


@pytest.mark.parametrize("job,area", [(SHARED, "raw/postgres/orders"), (SHARED_ECS, "raw/stripe/customers")])
def test_no_tenant_identity_reaches_another_tenants_prefix(plans, job, area):
    bucket = "arn:aws:s3:::dativo-shared-data-lake"
    for tenant, other in (("acme", "globex"), ("globex", "acme")):
        policies = _granted_policies(plans[tenant], job)
        assert len(policies) == 1
        evaluated = IAMPolicy(json.dumps(policies[0]))  # moto's IAM policy evaluation
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert evaluated.is_action_permitted(action, f"{bucket}/{tenant}/{area}/part-0.parquet") == PermissionResult.PERMITTED
            for foreign in (f"{bucket}/{other}/{area}/part-0.parquet", f"{bucket}/{other}/x", f"{bucket}/{tenant}-x/{area}/y"):
                assert evaluated.is_action_permitted(action, foreign) != PermissionResult.PERMITTED, (tenant, action, foreign)
        # moto ignores StringLike, so listing's prefix condition is matched here as IAM does
        prefixes = _list_prefixes(policies)
        assert prefixes and any(_like(p, f"{tenant}/{area}/") for p in prefixes)
        assert not any(_like(p, f"{other}/{area}/") or _like(p, f"{other}/") or _like(p, "") for p in prefixes)
        assert other not in json.dumps(policies)


def test_shared_kubernetes_job_gives_each_tenant_its_namespace_service_account_and_role(plans):
    seen = {}
    for tenant, other in (("acme", "globex"), ("globex", "acme")):
        p = plans[tenant]
        namespace = one(p.for_job(SHARED), "kubernetes:core/v1:Namespace").inputs["metadata"]["name"]
        account = one(p.for_job(SHARED), "kubernetes:core/v1:ServiceAccount").inputs["metadata"]
        assert namespace == account["namespace"] == _cron_job(p, SHARED)["metadata"]["namespace"] == f"{tenant}-etl"
        assert account["name"].startswith(f"{tenant}-prod-")
        role = one(p.for_job(SHARED), "aws:iam/role:Role").inputs
        assert role["name"].startswith(f"{tenant}-prod-")
        trust = IAMPolicy(role["assumeRolePolicy"])
        claims = {f"{EKS_PROVIDER}:aud": "sts.amazonaws.com"}
        own = {**claims, f"{EKS_PROVIDER}:sub": f"system:serviceaccount:{tenant}-etl:{account['name']}"}
        foreign = {**claims, f"{EKS_PROVIDER}:sub": f"system:serviceaccount:{other}-etl:{account['name'].replace(tenant, other, 1)}"}
        assert trust.is_action_permitted("sts:AssumeRoleWithWebIdentity", incoming_condition_values=own) == PermissionResult.PERMITTED
        assert trust.is_action_permitted("sts:AssumeRoleWithWebIdentity", incoming_condition_values=foreign) == PermissionResult.DENIED
        seen[tenant] = (namespace, account["name"], role["name"])
    assert len({v for values in seen.values() for v in values}) == 6  # nothing shared between the tenants


def test_storage_the_job_owns_is_created_private_and_protected_on_every_cloud(k8s_tree):
    initech = plan("initech", "prod", k8s_tree)
    owned = {r.type: r for r in initech.resources if r.protect}
    assert set(owned) == {"aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket", "azure-native:storage:BlobContainer"}
    assert all(r.retain_on_delete for r in owned.values())
    block = one(initech.for_job("orders-eks-owned"), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    gcs = owned["gcp:storage/bucket:Bucket"].inputs
    assert (gcs["publicAccessPrevention"], gcs["uniformBucketLevelAccess"], gcs["location"]) == ("enforced", True, "europe-west1")
    assert owned["azure-native:storage:BlobContainer"].inputs["publicAccess"] == "None"
    # the identities are granted the created storage, under the prefix
    gcs_grants = [r.inputs for r in initech.for_job("orders-gke-owned") if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"]
    assert {g["bucket"] for g in gcs_grants} == {"initech-orders-gcp"} and len(gcs_grants) == 2
    role = one(initech.for_job("orders-aks-owned"), "azure-native:authorization:RoleAssignment").inputs
    assert role["scope"].endswith("/storageAccounts/initechlake/blobServices/default/containers/orders")
    [policy] = _granted_policies(initech, "orders-eks-owned")
    assert policy["Statement"][0]["Resource"] == "arn:aws:s3:::initech-orders/raw/orders/*"
    for r in initech.resources:
        if r.custom and r.type.startswith("kubernetes:"):
            assert kubernetes_validate.validate(_manifest(r), K8S_VERSION, strict=True) == K8S_VERSION


def _dagster_config(p, job):
    return p.outputs[job]["dagster"]["run_tags"]["dagster-k8s/config"]


def test_dagster_k8s_config_is_accepted_by_dagster_and_matches_the_cron_job(plans):
    for p, job in _jobs(plans):
        parsed = get_user_defined_k8s_config({"dagster-k8s/config": _dagster_config(p, job)})  # raises on a bad value
        pod = _pod(p, job)
        assert parsed.container_config == {"resources": pod["spec"]["containers"][0]["resources"]}
        assert parsed.pod_spec_config == {"service_account_name": pod["spec"]["serviceAccountName"]}
        assert parsed.pod_template_spec_metadata == {"labels": pod["metadata"]["labels"]}
        assert parsed.job_spec_config == {"active_deadline_seconds": _cron_job(p, job)["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]}
        assert p.outputs[job]["dagster"]["namespace"] == _cron_job(p, job)["metadata"]["namespace"]


def test_a_run_dagster_launches_is_valid_labelled_and_selected_by_the_network_policy(plans):
    launcher = DagsterK8sJobConfig(job_image="dativo/dativo-ingest:latest", dagster_home="/opt/dagster/dagster_home",
                                   instance_config_map="dagster-instance")
    for p, job in _jobs(plans):
        config = get_user_defined_k8s_config({"dagster-k8s/config": _dagster_config(p, job)})
        built = construct_dagster_k8s_job(launcher, ["dagster", "api", "execute_run"], "dagster-run-0123", config,
                                          pod_name="dagster-run-0123", component="run_worker")
        manifest = kubernetes.client.ApiClient().sanitize_for_serialization(built)
        assert kubernetes_validate.validate(manifest, K8S_VERSION, strict=True) == K8S_VERSION
        pod = manifest["spec"]["template"]
        selector = one(p.for_job(job), "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]["podSelector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert pod["spec"]["serviceAccountName"] == p.outputs[job]["service_account_name"]


def test_planning_twice_gives_the_same_plan(k8s_tree):
    for tenant in ("acme", "globex"):
        first = plan_stack(stack_settings(tenant, "prod", jobs_dir=k8s_tree)).as_dict()
        second = plan_stack(stack_settings(tenant, "prod", jobs_dir=k8s_tree)).as_dict()
        assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_the_real_example_tenants_plan(cli):
    for tenant in ("acme", "globex"):
        code, out, err = cli("plan", "--tenant", tenant, "--environment", "prod", "--jobs-dir", JOBS, "--json")
        assert code == 0, err
        result = json.loads(out)
        runtimes = {r["type"] for r in result["resources"] if r["type"].startswith("dativo:")}
        assert runtimes >= {"dativo:aws:EcsJob", "dativo:kubernetes:Job"}
    assert {"dativo:gcp:CloudRunJob"} <= {r.type for r in plan("acme", "prod").resources}
    assert {"dativo:azure:ContainerAppsJob"} <= {r.type for r in plan("globex", "prod").resources}


def test_a_cluster_the_identity_must_trust_is_required(tmp_path):
    shutil.copytree(JOBS / "assets", tmp_path / "assets")
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "no_cluster.yaml").write_text(
        "tenant_id: acme\nenvironment: prod\ninfrastructure:\n  provider: aws\n  runtime: {type: kubernetes}\n"
        "  storage: {bucket: acme-data-lake, prefix: raw/x}\n")
    with pytest.raises(StackError) as caught:
        plan_stack(stack_settings("acme", "prod", jobs_dir=str(tmp_path)))
    [problem] = caught.value.problems
    assert problem.field == "infrastructure.runtime.cluster_name" and "name the EKS cluster in cluster_name" in problem.message
    assert problem.line == 5  # found by the job rules, before any resource is registered
    assert problem.file.endswith("no_cluster.yaml")


def test_the_runtimes_doc_covers_every_component():
    import importlib

    from dativo_infra.components import COMPONENTS

    doc = (JOBS.parent / "docs" / "runtimes.md").read_text()
    for module, name in COMPONENTS.values():
        assert f"`{getattr(importlib.import_module(module), name).TYPE}`" in doc
