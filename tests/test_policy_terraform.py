"""The modules' required_tag_keys (required_label_keys on kubernetes-job) checked by Terraform itself.

Each module's own ``tags`` (``labels``) and ``required_*_keys`` blocks are cut from its variables.tf
and written alone into a temporary folder; ``terraform console -var-file`` then reads a tfvars file
exactly as ``terraform apply`` would and runs the variable validations (tests/tfconsole.py).
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from dativo_infra.policy import load_policy, required_keys
from dativo_infra.tags.formats import FORMATS

from .conftest import ROOT, TERRAFORM
from .tfconsole import ENV

MODULES = ROOT / "terraform_compat" / "modules"
# module → (the map variable, the keys variable, the cloud format of its keys)
CASES = {
    "aws-ecs-job": ("tags", "required_tag_keys", "aws"),
    "gcp-cloud-run-job": ("tags", "required_tag_keys", "gcp"),
    "azure-container-apps-job": ("tags", "required_tag_keys", "azure"),
    "kubernetes-identity-aws": ("tags", "required_tag_keys", "aws"),
    "kubernetes-identity-gcp": ("tags", "required_tag_keys", "gcp"),
    "kubernetes-identity-azure": ("tags", "required_tag_keys", "azure"),
    "kubernetes-job": ("labels", "required_label_keys", "kubernetes"),
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_every_module_is_covered():
    # the storage submodules (aws/gcp/azure-job-storage) get their caller's tags, checked there: no policy keys of their own
    storage = sorted(p.name for p in MODULES.iterdir() if p.name.endswith("-job-storage"))
    assert storage and all("required_tag_keys" not in (MODULES / m / "variables.tf").read_text() for m in storage)
    assert sorted(CASES) == sorted(p.name for p in MODULES.iterdir() if (p / "variables.tf").is_file() and p.name not in storage)


def _block(text: str, name: str) -> str:
    start = text.index(f'variable "{name}" {{')
    return text[start:text.index("\n}\n", start) + 3]


def console(tmp_path: Path, module: str, values: dict) -> tuple[str, str]:
    """(stdout, stderr) of terraform console reading ``values`` against the module's two blocks."""
    assert TERRAFORM, "terraform is not on PATH: this test needs it (it is /usr/local/bin/terraform on these machines)"
    tags, keys, _ = CASES[module]
    text = (MODULES / module / "variables.tf").read_text(encoding="utf-8")
    (tmp_path / "variables.tf").write_text(_block(text, tags) + "\n" + _block(text, keys), encoding="utf-8")
    (tmp_path / "job.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    proc = subprocess.run([TERRAFORM, "console", "-var-file=job.tfvars.json"], input=f"jsonencode(var.{tags})\n",
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    return ANSI.sub("", proc.stdout), ANSI.sub("", proc.stderr)


def _default_tags(cloud: str) -> dict:
    fmt = FORMATS[cloud]
    return {fmt.key(k): fmt.value(v) for k, v in {"dativo:tenant": "acme", "dativo:environment": "prod",
                                                  "dativo:job": "stripe-customers", "dativo:cost-center": "FIN-1234"}.items()}


@pytest.mark.parametrize("module", sorted(CASES))
def test_tags_with_every_required_key_pass(tmp_path, module):
    tags, keys, cloud = CASES[module]
    present = _default_tags(cloud)
    out, err = console(tmp_path, module, {tags: present, keys: sorted(present)})
    assert "Invalid value for variable" not in err, err
    assert json.loads(json.loads(out.strip().splitlines()[-1])) == present


@pytest.mark.parametrize("module", sorted(CASES))
def test_a_missing_required_key_is_rejected_naming_it(tmp_path, module):
    tags, keys, cloud = CASES[module]
    present = _default_tags(cloud)
    wanted = FORMATS[cloud].key("dativo:data-owner")
    _, err = console(tmp_path, module, {tags: present, keys: sorted(present) + [wanted]})
    assert "Invalid value for variable" in err, err
    assert f"{tags} lacks keys the tag policy requires: {wanted}." in " ".join(err.replace("│", " ").split())


@pytest.mark.parametrize("module", sorted(CASES))
def test_no_required_keys_by_default(tmp_path, module):
    tags, _, _ = CASES[module]
    out, err = console(tmp_path, module, {tags: {}})
    assert "Invalid value for variable" not in err, err
    assert json.loads(json.loads(out.strip().splitlines()[-1])) == {}


@pytest.mark.parametrize("module, satisfied", [("azure-container-apps-job", True), ("aws-ecs-job", False)])
def test_key_case_follows_the_cloud(tmp_path, module, satisfied):
    """Azure tag names are case-insensitive, AWS keys are not."""
    _, err = console(tmp_path, module, {"tags": {"Dativo:Tenant": "acme"}, "required_tag_keys": ["dativo:tenant"]})
    assert ("Invalid value for variable" not in err) is satisfied, err


def test_required_keys_of_the_example_policy_reach_terraform(tmp_path):
    """What required_keys() gives for a prod AWS job is what the module checks: FIN-1234's job passes, without it fails."""
    policy = load_policy(str(ROOT / "examples" / "policies" / "prod.yaml"))
    keys = required_keys(policy, tenant="acme", environment="prod", provider="aws", runtime="ecs", cloud="aws")
    assert keys == ["dativo:cost-center"]
    assert required_keys(policy, tenant="acme", environment="dev", provider="aws", runtime="ecs", cloud="aws") == []  # warn rules only
    tags = _default_tags("aws")
    _, err = console(tmp_path, "aws-ecs-job", {"tags": tags, "required_tag_keys": keys})
    assert "Invalid value for variable" not in err, err
    del tags["dativo:cost-center"]
    _, err = console(tmp_path, "aws-ecs-job", {"tags": tags, "required_tag_keys": keys})
    assert "dativo:cost-center" in err and "Invalid value for variable" in err, err
