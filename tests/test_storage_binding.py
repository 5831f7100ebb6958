"""Storage bound to its tenant, whatever a command reads (issue 13, and an adversarial review's findings).

The tree is judged as a whole: validating or exporting one file, or one tenant's folder, must reject what a plan
of the whole tree rejects. Each case runs validate FILE, export --config, export --all of the tenant's folder,
validate of the whole tree and plan --tenant, and expects every one to refuse.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

PROJECT = "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n"

JOB = """tenant_id: {tenant}
environment: prod
infrastructure:
  provider: aws
  runtime: {{type: ecs, cluster_name: etl}}
  networking: {{vpc_id: vpc-1, subnet_ids: [subnet-1]}}
  storage: {storage}
"""

SHARED_FILE = """tenant_id: "${TENANT_ID}"
environment: prod
infrastructure:
  provider: aws
  runtime: {type: ecs, cluster_name: etl}
  networking: {vpc_id: vpc-1, subnet_ids: [subnet-1]}
  storage: {bucket: common-lake, prefix: "${TENANT_ID}/shared"}
"""


def tree(tmp_path: Path, hostile: str, stacks: Optional[dict[str, str]] = None) -> Path:
    root = tmp_path / "project"
    (root / "jobs" / "acme").mkdir(parents=True)
    (root / "jobs" / "globex").mkdir(parents=True)
    (root / "jobs" / "shared").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(PROJECT)
    for name, text in (stacks or {}).items():
        (root / f"Pulumi.{name}.yaml").write_text(text)
    (root / "jobs" / "acme" / "own.yaml").write_text(JOB.format(tenant="acme", storage="{bucket: acme-lake, prefix: raw}"))
    (root / "jobs" / "acme" / "created.yaml").write_text(JOB.format(tenant="acme", storage="{bucket: acme-made-lake, create_bucket: true}"))
    (root / "jobs" / "shared" / "common.yaml").write_text(SHARED_FILE)
    (root / "jobs" / "globex" / "hostile.yaml").write_text(JOB.format(tenant="globex", storage=hostile))
    return root


def refusals(cli, root: Path, tmp_path: Path) -> dict[str, tuple[int, str]]:
    hostile = root / "jobs" / "globex" / "hostile.yaml"
    p = ("--project-dir", root)
    runs = {
        "validate FILE": cli("validate", hostile, *p),
        "validate tree": cli("validate", root / "jobs", *p),
        "export --config": cli("terraform", "export", "--config", hostile, "--output", tmp_path / "one.tfvars", *p),
        "export --all tenant folder": cli("terraform", "export", "--all", root / "jobs" / "globex", "--output-dir", tmp_path / "out", *p),
        "plan --tenant": cli("plan", "--tenant", "globex", "--environment", "prod", "--jobs-dir", root / "jobs", *p),
    }
    return {way: (code, out + err) for way, (code, out, err) in runs.items()}


@pytest.mark.parametrize("storage,why", [
    ("{bucket: common-lake, prefix: acme/raw}", "must start with this tenant's segment 'globex/'"),
    ("{bucket: common-lake}", "must start with this tenant's segment 'globex/'"),
    ("{bucket: acme-lake, prefix: globex/x}", "is also named by tenant acme and is nobody's declared shared bucket"),
    ("{bucket: acme-made-lake, prefix: globex/x}", "belongs to tenant acme (created by its job)"),
])
def test_every_way_in_refuses_a_job_reaching_another_tenants_storage(cli, tmp_path, storage, why):
    root = tree(tmp_path, storage)
    for way, (code, text) in refusals(cli, root, tmp_path).items():
        assert code == 2, (way, text)
        assert "hostile.yaml" in text and why in text, (way, text)
    assert not (tmp_path / "one.tfvars").exists() and not (tmp_path / "out" / "globex").exists()


def test_a_bucket_declared_shared_in_any_stack_binds_prefixes_for_every_tenant(cli, tmp_path):
    stacks = {"acme-prod": "config:\n  dativo-infra:tenant: acme\n  dativo-infra:environment: prod\n  dativo-infra:sharedBuckets: [acme-lake]\n"}
    root = tree(tmp_path, "{bucket: acme-lake, prefix: raw}", stacks)  # globex's stack declares nothing
    for way, (code, text) in refusals(cli, root, tmp_path).items():
        assert code == 2 and "must start with this tenant's segment 'globex/'" in text, (way, text)


def test_a_guest_allowed_into_a_created_bucket_stays_under_its_own_segment(cli, tmp_path):
    stacks = {"globex-prod": "config:\n  dativo-infra:tenant: globex\n  dativo-infra:environment: prod\n  dativo-infra:allowedBuckets: [acme-made-lake]\n"}
    root = tree(tmp_path, "{bucket: acme-made-lake, prefix: globex/in}", stacks)
    for way, (code, text) in refusals(cli, root, tmp_path).items():
        assert code == 0, (way, text)
    (root / "jobs" / "globex" / "hostile.yaml").write_text(JOB.format(tenant="globex", storage="{bucket: acme-made-lake, prefix: landing}"))
    for way, (code, text) in refusals(cli, root, tmp_path).items():
        assert code == 2 and "must start with this tenant's segment 'globex/'" in text, (way, text)


@pytest.mark.parametrize("prefix", ["data/{tenant}/", "{tenant}-eu/", "{tenant}", "{tenant}cme/", "x/../{tenant}/"])
def test_a_tenant_prefix_that_could_hold_another_tenants_segment_is_refused(cli, tmp_path, prefix):
    stacks = {"globex-prod": f"config:\n  dativo-infra:tenant: globex\n  dativo-infra:environment: prod\n  dativo-infra:tenantPrefix: '{prefix}'\n"}
    root = tree(tmp_path, "{bucket: common-lake, prefix: globex/x}", stacks)
    code, out, _ = cli("validate", root / "jobs", "--project-dir", root)
    assert code == 2 and "dativo-infra:tenantPrefix" in out and "must start with '{tenant}/'" in out
