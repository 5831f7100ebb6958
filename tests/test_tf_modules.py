"""House rules of the Terraform modules and their examples, read with python-hcl2.

- README inputs/outputs tables are current (terraform_compat/readme_tables.py generates them);
- versions.tf pins Terraform and every provider with a minimum and a maximum; no provider blocks; each
  module names only the providers of its own cloud (kubernetes-job: kubernetes only);
- variables typed, described, alphabetical; outputs described, alphabetical; the main resource is `this`;
- every resource whose type takes tags/labels carries the job's (`var.tags`, `var.labels` on Kubernetes
  objects), taggability read from the Pulumi provider SDK class of the same resource;
- storage the module creates has `prevent_destroy`;
- each example root declares every variable of the modules it calls with their type and passes it
  through (or wires one module's output into the other), configures exactly their providers and gives
  their outputs;
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
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from terraform_compat import readme_tables
from terraform_compat.readme_tables import EXAMPLES_DIR, MODULES_DIR, STORAGE_MODULE, example_calls, module_outputs, module_variables

from . import tfmodules
from .conftest import ROOT, TERRAFORM

MODULES = sorted(p.name for p in MODULES_DIR.iterdir() if (p / "variables.tf").is_file())
JOB_MODULES = sorted(set(MODULES) - set(STORAGE_MODULE.values()))  # what a root configuration calls
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / "main.tf").is_file())
MAIN_RESOURCE = {
    "aws-ecs-job": "aws_ecs_task_definition",
    "gcp-cloud-run-job": "google_cloud_run_v2_job",
    "azure-container-apps-job": "azurerm_container_app_job",
    "kubernetes-job": "kubernetes_cron_job_v1",
    "kubernetes-identity-aws": "aws_iam_role",
    "kubernetes-identity-gcp": "google_service_account",
    "kubernetes-identity-azure": "azurerm_user_assigned_identity",
    "aws-job-storage": "aws_s3_bucket",
    "gcp-job-storage": "google_storage_bucket",
    "azure-job-storage": "azurerm_storage_container",
}
# The providers each module names: its own cloud's only, so that a root configuration configures (and
# logs in to) no other cloud. Every resource and data source type starts with one of their prefixes.
PROVIDERS = {
    "aws-ecs-job": {"aws"},
    "gcp-cloud-run-job": {"google"},
    "azure-container-apps-job": {"azurerm"},
    "kubernetes-job": {"kubernetes"},
    "kubernetes-identity-aws": {"aws"},
    "kubernetes-identity-gcp": {"google"},
    "kubernetes-identity-azure": {"azurerm"},
    "aws-job-storage": {"aws"},
    "gcp-job-storage": {"google"},
    "azure-job-storage": {"azurerm"},
}
STORAGE = {"aws_s3_bucket", "google_storage_bucket", "azurerm_storage_container"}
NO_STORAGE = {"kubernetes-job"}  # the Kubernetes objects only: a Kubernetes job's storage is its identity module's

# Terraform resource type → the Pulumi class of the same cloud resource, whose constructor says
# whether the resource takes tags (docs/cloud-limits.md §4). pulumi-aws and pulumi-gcp are generated from the
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


def resources(module: str, kind: str = "resource") -> list[tuple[str, str, dict]]:
    """(type, name, body) of every resource (or ``kind="data"`` source) of the module and of the storage submodule it
    calls, in the module's terms (tests/tfmodules.py: the submodule's var.X is what the call passes)."""
    return tfmodules.resources(module, kind, strip_quotes=True)


def required_providers(module: str) -> set[str]:
    return {name for block in load(MODULES_DIR / module / "versions.tf")["terraform"][0]["required_providers"]
            for name, _ in body_of(block)}


@cache
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
    if module in STORAGE_MODULE.values():  # called by modules, not by a root: its usage is the call
        assert f'source = "../{module}"' in text
    else:
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


def test_every_module_has_its_providers_listed():
    assert sorted(PROVIDERS) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_the_module_names_only_the_providers_of_its_cloud(module):
    """Terraform configures every provider a module names, even when its resources have count = 0: a module
    that named another cloud's provider would make its users configure (and log in to) that cloud too."""
    assert required_providers(module) == PROVIDERS[module]
    prefixes = tuple(f"{name}_" for name in PROVIDERS[module])
    others = [f"{kind} {rtype}.{name}" for kind in ("resource", "data") for rtype, name, _ in resources(module, kind)
              if not rtype.startswith(prefixes)]
    assert not others, f"{module} names {others}, not of {sorted(PROVIDERS[module])}"


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
    assert bool(storage) == (module not in NO_STORAGE), f"{module}: storage resources {storage}"
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
    assert locals_["pod_labels"] == "${merge(var.labels, var.pod_labels)}"
    security = pod["spec"][0]["container"][0]["security_context"][0]
    assert security["read_only_root_filesystem"] is True and security["allow_privilege_escalation"] is False
    assert security["capabilities"][0]["drop"] == ["ALL"]
    assert security["seccomp_profile"][0]["type"] == "RuntimeDefault"


def _as_hcl_blocks(value: Any) -> Any:
    """A Kubernetes object in the API's camelCase → the provider's snake_case, nested objects as one-element block lists."""
    if isinstance(value, dict):
        return [{re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): _as_hcl_blocks(v) if isinstance(v, dict) else v for k, v in value.items()}]
    return value


def test_kubernetes_security_contexts_are_the_pulumi_components():
    from dativo_infra.components.kubernetes_job import CONTAINER_SECURITY, POD_SECURITY

    (cron,) = [body for t, n, body in resources("kubernetes-job") if t == "kubernetes_cron_job_v1"]
    pod = cron["spec"][0]["job_template"][0]["spec"][0]["template"][0]["spec"][0]
    assert _without_markers(pod["security_context"]) == _as_hcl_blocks(POD_SECURITY)  # same UID, GID and fsGroup on both sides
    assert _without_markers(pod["container"][0]["security_context"]) == _as_hcl_blocks(CONTAINER_SECURITY)


def _without_markers(value: Any) -> Any:
    """python-hcl2's ``__is_block__`` and similar markers are not part of the configuration."""
    if isinstance(value, dict):
        return {k: _without_markers(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_without_markers(v) for v in value]
    return value


WORKLOAD_IDENTITY = {  # the identity module → what its outputs put on the service account and on the pods
    "kubernetes-identity-aws": ({"eks.amazonaws.com/role-arn": "${aws_iam_role.this.arn}"}, {}),
    "kubernetes-identity-gcp": ({"iam.gke.io/gcp-service-account": "${google_service_account.this.email}"}, {}),
    "kubernetes-identity-azure": ({"azure.workload.identity/client-id": "${azurerm_user_assigned_identity.this.client_id}"},
                                  {"azure.workload.identity/use": "true"}),
}


def test_kubernetes_service_account_carries_the_identity_binding_it_is_given():
    (account,) = [body for t, n, body in resources("kubernetes-job") if t == "kubernetes_service_account_v1"]
    assert account["metadata"][0]["annotations"] == "${var.service_account_annotations}"
    for name in ("pod_labels", "service_account_annotations"):
        assert module_variables(MODULES_DIR / "kubernetes-job")[name].default == {}  # no identity: a plain service account


@pytest.mark.parametrize("module", sorted(WORKLOAD_IDENTITY))
def test_identity_outputs_are_the_workload_identity_binding(module):
    """The annotation and pod labels of each cloud, as the Pulumi component's workload_identity.py sets them."""
    outputs = {name: body["value"] for block in load(MODULES_DIR / module / "outputs.tf")["output"] for name, body in body_of(block)}
    annotations, pod_labels = WORKLOAD_IDENTITY[module]
    assert outputs["service_account_annotations"] == annotations
    assert outputs["pod_labels"] == pod_labels


def test_security_group_has_no_ingress():
    for rtype, _name, body in resources("aws-ecs-job"):
        assert rtype != "aws_vpc_security_group_ingress_rule"
        if rtype == "aws_security_group":
            assert "ingress" not in body


# --- examples ------------------------------------------------------------------------------------------


@cache
def module_calls(example: str) -> dict[str, tuple[str, dict]]:
    """Call name → (module folder, the arguments of the call but source)."""
    modules = example_calls(EXAMPLES_DIR / example)
    calls = {}
    for block in load(EXAMPLES_DIR / example / "main.tf")["module"]:
        for name, body in body_of(block):
            assert body["source"] == f"../../modules/{modules[name]}", (example, name, body["source"])
            calls[name] = (modules[name], {k: v for k, v in body.items() if k != "source" and not k.startswith("__")})
    return calls


@cache
def wired(example: str) -> dict[tuple[str, str], str]:
    """(module call, variable) → the "call.output" that sets it: one module's output passed to the other."""
    out = {}
    for call, (_, args) in module_calls(example).items():
        for name, value in args.items():
            match = re.fullmatch(r"\$\{module\.([a-z_]+)\.([a-z_]+)\}", str(value))
            if match:
                out[(call, name)] = f"{match[1]}.{match[2]}"
    return out


def test_every_module_has_an_example():
    assert {module for example in EXAMPLES for module in example_calls(EXAMPLES_DIR / example).values()} == set(JOB_MODULES)
    kubernetes = {example: sorted(example_calls(EXAMPLES_DIR / example).values()) for example in EXAMPLES if example.startswith("kubernetes-job")}
    assert kubernetes == {f"kubernetes-job-{cluster}": sorted(["kubernetes-job", f"kubernetes-identity-{cloud}"])
                          for cluster, cloud in (("eks", "aws"), ("gke", "gcp"), ("aks", "azure"))}


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_passes_its_modules_what_they_declare(example):
    """Each module called gets only variables it declares and every one it requires: from the root variable of the
    same name (declared with the module's type and requiredness), or from the other module's output of that name.
    A module variable the example job does not export keeps the module's default."""
    root = module_variables(EXAMPLES_DIR / example)  # the example's variables.tf
    calls = module_calls(example)
    links = wired(example)
    variables = {module: module_variables(MODULES_DIR / module) for module, _ in calls.values()}
    problems = []
    for call, (module, args) in calls.items():
        declared = variables[module]
        problems += [f"examples/{example}: module.{call} sets {name}, which {module} does not declare" for name in sorted(set(args) - set(declared))]
        problems += [f"examples/{example}: module.{call} leaves required {name} unset" for name, var in declared.items()
                     if var.required and name not in args]
        for name in sorted(set(args) & set(declared)):
            if (call, name) in links:
                source_call, output = links[(call, name)].split(".")
                assert output == name, f"examples/{example}: module.{call}.{name} is set from {links[(call, name)]}"
                assert name in module_outputs(MODULES_DIR / calls[source_call][0]), (example, call, name)
                continue
            if args[name] != f"${{var.{name}}}":
                problems.append(f"examples/{example}: module.{call}.{name} is {args[name]!r}, not var.{name}")
            elif name not in root:
                problems.append(f"examples/{example}/variables.tf does not declare {name}")
            elif root[name].type != declared[name].type:
                problems.append(f"examples/{example}: {name} is {root[name].type} at the root, {declared[name].type} in {module}")
            elif root[name].required != any(variables[m][name].required for m, a in calls.values() if a.get(name) == f"${{var.{name}}}"):
                problems.append(f"examples/{example}: {name} is {'required' if root[name].required else 'optional'} at the root, "
                                "not as the modules it is passed to (required when one requires it)")
    # a root variable passed to no module is an exported variable no module uses: declared as root_variables.tf does
    root_only = module_variables(readme_tables.ROOT_VARIABLES)
    for name, var in root.items():
        if not any(args.get(name) == f"${{var.{name}}}" for _, args in calls.values()):
            if name not in root_only or (var.type, var.required) != (root_only[name].type, root_only[name].required):
                problems.append(f"examples/{example}: {name} is passed to no module and not declared as in root_variables.tf")
    assert not problems, "\n".join(problems)


def test_examples_are_what_scaffold_writes_for_their_jobs():
    from terraform_compat import example_roots

    stale = example_roots.stale_files()
    assert not stale, f"stale examples {[str(p.relative_to(ROOT)) for p in stale]}: run {example_roots.REGENERATE}"


def example_blocks(example: str) -> dict[str, list]:
    """Every .tf file of the example, parsed and merged (main.tf, providers.tf, backend.tf, variables.tf, moved.tf)."""
    out: dict[str, list] = {}
    for path in sorted((EXAMPLES_DIR / example).glob("*.tf")):
        for key, value in load(path).items():
            out.setdefault(key, []).extend(value)
    return out


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_has_providers_and_a_partial_backend(example):
    parsed = example_blocks(example)
    (backend,) = [b for block in parsed["terraform"] for b in block.get("backend", [])]
    ((kind, settings),) = list(body_of(backend))
    assert kind in ("s3", "gcs", "azurerm") and not [k for k in settings if not k.startswith("__")]
    calls = module_calls(example)
    providers = {name for block in parsed["provider"] for name, _ in body_of(block)}
    module_providers = {name for module, _ in calls.values() for name in required_providers(module)}
    assert providers == module_providers
    root_required = {name for terraform in parsed["terraform"] for block in terraform.get("required_providers", []) for name, _ in body_of(block)}
    assert root_required == module_providers
    # the outputs of the modules, but those wired into the other module
    outputs = {name: body["value"] for block in parsed["output"] for name, body in body_of(block)}
    used = set(wired(example).values())
    expected = {name: f"${{module.{call}.{name}}}" for call, (module, _) in calls.items()
                for name in module_outputs(MODULES_DIR / module) if f"{call}.{name}" not in used}
    assert outputs == expected


MOVED_FROM = re.compile(r"module\.job\.(?P<type>[a-z0-9_]+)\.(?P<name>[a-z0-9_]+)(?P<index>\[0\])?")
MOVED_TO = re.compile(r"module\.identity\.(?P<type>[a-z0-9_]+)\.(?P<name>[a-z0-9_]+)(?P<index>\[0\])?")
INTO_STORAGE = re.compile(r"module\.storage\.(?P<type>[a-z0-9_]+)\.(?P<name>[a-z0-9_]+)")


def _address(value: Any) -> str:
    return str(value).removeprefix("${").removesuffix("}")


def own_resources(module: str) -> dict[tuple[str, str], bool]:
    """(type, name) of the resources the module declares itself → whether it has a count."""
    return {(t, n): "count" in body for t, n, body in tfmodules.resources(tfmodules.unquote(module), strip_quotes=True)
            if (t, n) in {(tt, nn) for e in tfmodules.own_blocks(module, True).get("resource", []) for tt, named in body_of(e) for nn, _ in body_of(named)}}


def module_moves(module: str) -> dict[tuple[str, str], tuple[str, str]]:
    """The module's own moved blocks: (type, name) it once declared → (type, name) in its storage submodule."""
    out = {}
    for block in tfmodules.own_blocks(module, True).get("moved", []):
        source, target = _address(block["from"]), INTO_STORAGE.fullmatch(_address(block["to"]))
        assert target and re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", source), (module, block)
        out[tuple(source.split("."))] = (target["type"], target["name"])
    return out


@pytest.mark.parametrize("module", [m for m in JOB_MODULES if tfmodules.calls(m)])
def test_modules_move_the_state_of_what_went_to_their_storage_submodule(module):
    """Every resource of the storage submodule has a moved block from the address the module gave it before 1.0.0
    (same type, the same count), and no moved block leaves a resource behind or points at nothing."""
    ((call, (storage, _)),) = tfmodules.calls(module).items()
    assert call == "storage" and storage in STORAGE_MODULE.values()
    moves = module_moves(module)
    inner = own_resources(storage)
    assert sorted(moves.values()) == sorted(inner), f"{module}: moved blocks {sorted(moves.values())}, {storage} declares {sorted(inner)}"
    mine = own_resources(module)
    for (rtype, name), target in moves.items():
        assert rtype == target[0] and (rtype, name) not in mine, (module, rtype, name, target)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.startswith("kubernetes-job-")])
def test_kubernetes_examples_move_the_former_identity_state(example):
    """Every resource of the identity module (its storage submodule's included) has a moved block from module "job"
    (the single module that created it with a count): the example's block moves it to module "identity", and where
    it now lives in module "identity"'s storage submodule, that module's own moved block takes it on (a chain of
    moves). The from-address is indexed exactly when the resource no longer has a count."""
    identity = example_calls(EXAMPLES_DIR / example)["identity"]
    storage = tfmodules.calls(identity)["storage"][0]
    declared = {("", t, n): c for (t, n), c in own_resources(identity).items()}
    declared |= {("storage", t, n): c for (t, n), c in own_resources(storage).items()}
    onward = module_moves(identity)
    job_module = {(t, n) for t, n, _ in resources("kubernetes-job")}
    moved = []
    for block in load(EXAMPLES_DIR / example / "moved.tf")["moved"]:
        source, target = MOVED_FROM.fullmatch(_address(block["from"])), MOVED_TO.fullmatch(_address(block["to"]))
        assert source and target, block
        assert (source["type"], source["name"]) == (target["type"], target["name"]), block
        key = (target["type"], target["name"])
        final = ("storage", *onward[key]) if key in onward else ("", *key)
        assert final in declared and key not in job_module, block
        # a resource that now has no count moves from instance [0]; one that still has a count moves whole
        assert (source["index"], target["index"]) == ((None, None) if declared[final] else ("[0]", None)), block
        moved.append(final)
    assert sorted(moved) == sorted(declared)


def test_readme_sequence_exports_files_terraform_accepts(tmp_path, cli, monkeypatch):
    """The export commands of terraform_compat/README.md run as written (in a folder standing for the
    repository root), and write the files its terraform commands name."""
    text = (ROOT / "terraform_compat" / "README.md").read_text()
    commands = [shlex.split(line) for line in text.splitlines() if line.startswith("dativo-infra terraform export")]
    assert commands
    (tmp_path / "jobs").symlink_to(ROOT / "jobs")
    for stack_file in ROOT.glob("Pulumi*.yaml"):  # the repository root: its stack files set the stacks' images and regions
        shutil.copy(stack_file, tmp_path)
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


@pytest.mark.parametrize("module", ["azure-container-apps-job", "kubernetes-identity-azure"])
def test_azure_role_assignments_are_named_as_pulumi_names_them(module):
    """The GUID comes from azure-job-storage's local.role_assignment_name, which test_tf_contract.py evaluates against the component's."""
    (assignment,) = [body for t, n, body in resources(module) if t == "azurerm_role_assignment"]
    assert assignment["name"] == "${local.storage_role_assignment_name}"


def _values_of(body: Any, key: str) -> list:
    if isinstance(body, dict):
        return [v for k, v in body.items() if k == key] + [x for v in body.values() for x in _values_of(v, key)]
    if isinstance(body, list):
        return [x for v in body for x in _values_of(v, key)]
    return []


@pytest.mark.parametrize("module, document", [("aws-ecs-job", "this"), ("kubernetes-identity-aws", "this")])
def test_aws_storage_policy_statements_are_the_pulumi_components(module, document):
    """Same statement ids on both sides, so the two tools' policies can be compared statement by statement."""
    from dativo_infra.components.aws_iam import storage_access

    (body,) = [body for t, n, body in resources(module, "data") if (t, n) == ("aws_iam_policy_document", document)]
    every = {"storage_bucket": "b", "storage_prefix": "p", "storage_kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"}
    assert sorted(_values_of(body, "sid")) == sorted(s["Sid"] for s in storage_access(every)["Statement"])
