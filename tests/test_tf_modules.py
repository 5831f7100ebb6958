"""House rules of the Terraform modules and their examples, read with python-hcl2.

- README inputs/outputs tables are current (terraform_compat/readme_tables.py generates them);
- versions.tf pins Terraform and every provider with a minimum and a maximum; no provider blocks;
- variables typed, described, alphabetical; outputs described, alphabetical; the main resource is `this`;
- every resource whose type takes tags/labels carries the job's (`var.tags`, `var.labels` on Kubernetes
  objects), taggability read from the Pulumi provider SDK class of the same resource;
- storage the module creates has `prevent_destroy`;
- each example root declares every module variable with the module's type and passes it through;
- the commands in terraform_compat/README.md export files Terraform accepts.
"""
from __future__ import annotations

import importlib
import inspect
import re
import shlex
import shutil
import subprocess
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import hcl2
import pytest

from terraform_compat import readme_tables
from terraform_compat.readme_tables import MODULES_DIR, module_outputs, module_variables

from .conftest import ROOT, TERRAFORM

MODULES = sorted(p.name for p in MODULES_DIR.iterdir() if (p / "variables.tf").is_file())
EXAMPLES_DIR = ROOT / "terraform_compat" / "examples"
MAIN_RESOURCE = {
    "aws-ecs-job": "aws_ecs_task_definition",
    "gcp-cloud-run-job": "google_cloud_run_v2_job",
    "azure-container-apps-job": "azurerm_container_app_job",
    "kubernetes-job": "kubernetes_cron_job_v1",
}
STORAGE = {"aws_s3_bucket", "google_storage_bucket", "azurerm_storage_container"}

# Terraform resource type → the Pulumi class of the same cloud resource, whose constructor says
# whether the resource takes tags (FACTS.md §4). pulumi-aws and pulumi-gcp are generated from the
# same provider schemas; azure-native and kubernetes are the classes the Pulumi components use.
PULUMI_CLASS = {
    "aws_cloudwatch_log_group": "pulumi_aws.cloudwatch.LogGroup",
    "aws_ecs_cluster": "pulumi_aws.ecs.Cluster",
    "aws_ecs_task_definition": "pulumi_aws.ecs.TaskDefinition",
    "aws_iam_role": "pulumi_aws.iam.Role",
    "aws_iam_role_policy": "pulumi_aws.iam.RolePolicy",
    "aws_iam_role_policy_attachment": "pulumi_aws.iam.RolePolicyAttachment",
    "aws_s3_bucket": "pulumi_aws.s3.Bucket",
    "aws_s3_bucket_public_access_block": "pulumi_aws.s3.BucketPublicAccessBlock",
    "aws_s3_bucket_server_side_encryption_configuration": "pulumi_aws.s3.BucketServerSideEncryptionConfiguration",
    "aws_s3_bucket_versioning": "pulumi_aws.s3.BucketVersioning",
    "aws_scheduler_schedule": "pulumi_aws.scheduler.Schedule",
    "aws_security_group": "pulumi_aws.ec2.SecurityGroup",
    "aws_vpc_security_group_egress_rule": "pulumi_aws.vpc.SecurityGroupEgressRule",
    "google_cloud_run_v2_job": "pulumi_gcp.cloudrunv2.Job",
    "google_cloud_run_v2_job_iam_member": "pulumi_gcp.cloudrunv2.JobIamMember",
    "google_cloud_scheduler_job": "pulumi_gcp.cloudscheduler.Job",
    "google_kms_crypto_key_iam_member": "pulumi_gcp.kms.CryptoKeyIAMMember",
    "google_service_account": "pulumi_gcp.serviceaccount.Account",
    "google_service_account_iam_member": "pulumi_gcp.serviceaccount.IAMMember",
    "google_storage_bucket": "pulumi_gcp.storage.Bucket",
    "google_storage_bucket_iam_member": "pulumi_gcp.storage.BucketIAMMember",
    "azurerm_container_app_job": "pulumi_azure_native.app.Job",
    "azurerm_federated_identity_credential": "pulumi_azure_native.managedidentity.FederatedIdentityCredential",
    "azurerm_role_assignment": "pulumi_azure_native.authorization.RoleAssignment",
    "azurerm_storage_container": "pulumi_azure_native.storage.BlobContainer",
    "azurerm_user_assigned_identity": "pulumi_azure_native.managedidentity.UserAssignedIdentity",
    "kubernetes_cron_job_v1": "pulumi_kubernetes.batch.v1.CronJob",
    "kubernetes_namespace_v1": "pulumi_kubernetes.core.v1.Namespace",
    "kubernetes_network_policy_v1": "pulumi_kubernetes.networking.v1.NetworkPolicy",
    "kubernetes_service_account_v1": "pulumi_kubernetes.core.v1.ServiceAccount",
}


def load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))


def body_of(block: dict) -> Iterator[tuple[str, dict]]:
    for key, value in block.items():
        if not key.startswith("__"):
            yield key.strip('"'), value


def resources(module: str) -> list[tuple[str, str, dict]]:
    """(type, name, body) of every resource of the module, every .tf file."""
    out = []
    for path in sorted((MODULES_DIR / module).glob("*.tf")):
        for block in load(path).get("resource", []):
            for rtype, named in body_of(block):
                for name, body in body_of(named):
                    out.append((rtype, name, body))
    return out


@lru_cache(maxsize=None)
def pulumi_takes(rtype: str) -> str:
    """What the Pulumi class of this resource takes for the job's tags: "tags" (AWS, Azure), "labels"
    (GCP; its `tags` are Resource Manager tags, another thing), "metadata" (Kubernetes) or ""."""
    module_name, _, class_name = PULUMI_CLASS[rtype].rpartition(".")
    with warnings.catch_warnings():  # some SDK modules warn about deprecated functions on import
        warnings.simplefilter("ignore", DeprecationWarning)
        cls = getattr(importlib.import_module(module_name), class_name)
    params = set(inspect.signature(cls._internal_init).parameters)
    wanted = {"pulumi_aws": "tags", "pulumi_azure_native": "tags", "pulumi_gcp": "labels", "pulumi_kubernetes": "metadata"}
    name = wanted[module_name.split(".")[0]]
    return name if name in params else ""


# --- READMEs ---------------------------------------------------------------------------------------


def test_readme_tables_are_current():
    stale = readme_tables.stale_readmes([MODULES_DIR / m for m in MODULES])
    assert not stale, f"stale inputs/outputs tables in {[str(p.relative_to(ROOT)) for p in stale]}: run {readme_tables.REGENERATE}"


def test_readme_check_reports_a_stale_table(tmp_path, capsys):
    module = tmp_path / "aws-ecs-job"
    shutil.copytree(MODULES_DIR / "aws-ecs-job", module)
    readme = module / "README.md"
    readme.write_text(readme.read_text().replace("| `tags` |", "| `old_tags` |"))
    assert readme_tables.main(["--check", str(module)]) == 1
    assert readme_tables.REGENERATE in capsys.readouterr().err
    assert readme_tables.main([str(module)]) == 0
    assert readme_tables.main(["--check", str(module)]) == 0
    assert "| `old_tags` |" not in readme.read_text()


@pytest.mark.parametrize("module", MODULES)
def test_readme_has_purpose_usage_and_tables(module):
    text = (MODULES_DIR / module / "README.md").read_text()
    assert text.startswith(f"# {module}\n")
    assert "dativo-infra terraform export --config" in text and "-var-file=" in text
    for name in module_variables(MODULES_DIR / module):
        assert f"| `{name}` |" in text
    for name in module_outputs(MODULES_DIR / module):
        assert f"| `{name}` |" in text


# --- structure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
def test_versions_pin_a_minimum_and_a_maximum(module):
    (terraform,) = load(MODULES_DIR / module / "versions.tf")["terraform"]
    assert re.fullmatch(r">= [\d.]+, < [\d.]+", terraform["required_version"])
    providers = {name: spec for block in terraform["required_providers"] for name, spec in body_of(block)}
    assert providers
    for name, spec in providers.items():
        assert spec["source"] == f"hashicorp/{name}"
        assert re.fullmatch(r">= [\d.]+, < [\d.]+", spec["version"]), (name, spec["version"])


@pytest.mark.parametrize("module", MODULES)
def test_the_module_configures_no_provider(module):
    for path in (MODULES_DIR / module).glob("*.tf"):
        parsed = load(path)
        assert "provider" not in parsed, path
        assert "default_tags" not in path.read_text(), path


@pytest.mark.parametrize("module", MODULES)
def test_variables_are_typed_described_and_alphabetical(module):
    variables = module_variables(MODULES_DIR / module)
    names = list(variables)
    assert names == sorted(names)
    for var in variables.values():
        assert var.description and var.type != "any", var.name
    assert "provider" not in variables  # reserved by Terraform: the modules say cloud_provider


@pytest.mark.parametrize("module", MODULES)
def test_outputs_are_described_and_alphabetical(module):
    outputs = module_outputs(MODULES_DIR / module)
    assert list(outputs) == sorted(outputs)
    assert all(o.description for o in outputs.values())


@pytest.mark.parametrize("module", MODULES)
def test_main_resource_is_called_this(module):
    assert (MAIN_RESOURCE[module], "this") in {(t, n) for t, n, _ in resources(module)}


@pytest.mark.parametrize("module", MODULES)
def test_created_storage_is_protected_from_destroy(module):
    storage = [(t, n, body) for t, n, body in resources(module) if t in STORAGE]
    assert storage
    for rtype, name, body in storage:
        assert body.get("lifecycle", [{}])[0].get("prevent_destroy") is True, f"{rtype}.{name}"


def _sets(value: Any, variable: str) -> bool:
    return isinstance(value, str) and re.search(rf"\b{re.escape(variable)}\b", value) is not None


@pytest.mark.parametrize("module", MODULES)
def test_every_taggable_resource_carries_the_job_tags(module):
    """Taggable is decided by the Pulumi SDK class of the resource, not by this test."""
    problems = []
    for rtype, name, body in resources(module):
        assert rtype in PULUMI_CLASS, f"{rtype}: add its Pulumi class to PULUMI_CLASS"
        takes = pulumi_takes(rtype)
        where = f"{module}: {rtype}.{name}"
        if takes == "metadata":
            metadata = body["metadata"][0]
            if not _sets(metadata.get("labels"), "var.labels"):
                problems.append(f"{where}: metadata.labels is not var.labels")
        elif takes == "tags" and rtype.startswith(("aws_", "azurerm_")):
            if not _sets(body.get("tags"), "var.tags"):
                problems.append(f"{where}: takes tags, has {body.get('tags')!r}")
        elif takes in ("tags", "labels") and rtype.startswith("google_"):
            if not _sets(body.get("labels"), "var.tags"):
                problems.append(f"{where}: takes labels, has {body.get('labels')!r}")
        else:
            assert "tags" not in body and "labels" not in body, f"{where}: tags on a resource that takes none"
    assert not problems, "\n".join(problems)


def test_taggability_comes_from_the_sdk():
    assert pulumi_takes("aws_iam_role") == "tags"
    assert pulumi_takes("aws_iam_role_policy") == ""
    assert pulumi_takes("google_cloud_run_v2_job") == "labels"
    assert pulumi_takes("google_cloud_scheduler_job") == ""
    assert pulumi_takes("azurerm_storage_container") == ""
    assert pulumi_takes("kubernetes_cron_job_v1") == "metadata"


def test_kubernetes_pods_carry_the_job_labels():
    (cron,) = [body for t, n, body in resources("kubernetes-job") if t == "kubernetes_cron_job_v1"]
    template = cron["spec"][0]["job_template"][0]
    assert template["metadata"][0]["labels"] == "${var.labels}"
    pod = template["spec"][0]["template"][0]
    assert pod["metadata"][0]["labels"] == "${local.pod_labels}"
    locals_ = load(MODULES_DIR / "kubernetes-job" / "locals.tf")["locals"][0]
    assert locals_["pod_labels"].startswith("${merge(var.labels,")
    security = pod["spec"][0]["container"][0]["security_context"][0]
    assert security["read_only_root_filesystem"] is True and security["allow_privilege_escalation"] is False
    assert security["capabilities"][0]["drop"] == ["ALL"]
    assert security["seccomp_profile"][0]["type"] == "RuntimeDefault"


def test_security_group_has_no_ingress():
    for rtype, name, body in resources("aws-ecs-job"):
        assert rtype != "aws_vpc_security_group_ingress_rule"
        if rtype == "aws_security_group":
            assert "ingress" not in body


# --- examples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
def test_example_passes_every_module_variable_through(module):
    example = EXAMPLES_DIR / module
    declared = module_variables(MODULES_DIR / module)
    root = module_variables(example)  # the example's variables.tf
    for name, var in declared.items():
        assert name in root, f"examples/{module}/variables.tf does not declare {name}"
        assert root[name].type == var.type, name
        assert root[name].required == var.required, name
    (call,) = [body for block in load(example / "main.tf")["module"] for _, body in body_of(block)]
    assert call["source"] == f"../../modules/{module}"
    passed = {k: v for k, v in call.items() if k not in ("source",) and not k.startswith("__")}
    assert passed == {name: f"${{var.{name}}}" for name in declared}


@pytest.mark.parametrize("module", MODULES)
def test_example_has_providers_and_a_partial_backend(module):
    parsed = load(EXAMPLES_DIR / module / "main.tf")
    (terraform,) = parsed["terraform"]
    (backend,) = terraform["backend"]
    ((kind, settings),) = list(body_of(backend))
    assert kind in ("s3", "gcs", "azurerm") and not [k for k in settings if not k.startswith("__")]
    providers = {name for block in parsed["provider"] for name, _ in body_of(block)}
    module_providers = {name for block in load(MODULES_DIR / module / "versions.tf")["terraform"][0]["required_providers"]
                        for name, _ in body_of(block)}
    assert providers == module_providers
    outputs = {name for block in parsed["output"] for name, _ in body_of(block)}
    assert outputs == set(module_outputs(MODULES_DIR / module))


def test_readme_sequence_exports_files_terraform_accepts(tmp_path, cli, monkeypatch):
    """The export commands of terraform_compat/README.md run as written (in a folder standing for the
    repository root), and write the files its terraform commands name."""
    text = (ROOT / "terraform_compat" / "README.md").read_text()
    commands = [shlex.split(line) for line in text.splitlines() if line.startswith("dativo-infra terraform export")]
    assert commands
    (tmp_path / "jobs").symlink_to(ROOT / "jobs")
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        code, out, err = cli(*argv[1:])
        assert code == 0, out + err
    for line in text.splitlines():
        for path in re.findall(r"-(?:var-file|backend-config)=\.\./\.\./\.\./(\S+)", line):
            assert (tmp_path / path).is_file(), f"{line!r} names {path}, which the export did not write"
    # the first sequence applies acme.tfvars to the aws-ecs-job example: its root variables accept it
    assert TERRAFORM
    shutil.copy(EXAMPLES_DIR / "aws-ecs-job" / "variables.tf", tmp_path / "variables.tf")
    proc = subprocess.run([TERRAFORM, "console", "-no-color", "-var-file=acme.tfvars"], cwd=tmp_path,
                          input="var.cluster_name\n", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Error:" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert '"dativo-prod-cluster"' in proc.stdout
