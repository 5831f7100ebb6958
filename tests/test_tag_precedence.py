"""Tag precedence (highest first): infrastructure.tags > job finops > asset finops > asset compliance > defaults.

Table-driven, end to end from job and asset files, plus the pure merge with
synthetic candidates (so every pair of levels is covered even where no
canonical key is shared), provenance, and the `dativo-infra tags` output.
"""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Optional

import pytest
import yaml

from dativo_infra.errors import ConfigError, TagError
from dativo_infra.jobs import load_job
from dativo_infra.tags import LEVELS, LIST_SEPARATOR, TagCandidate, format_levels

from .plans import resolved

DEFAULTS, COMPLIANCE, ASSET_FINOPS, JOB_FINOPS, INFRA = "defaults", "asset.compliance", "asset.finops", "job.finops", "infrastructure.tags"


def test_levels_lowest_first():
    assert LEVELS == (DEFAULTS, COMPLIANCE, ASSET_FINOPS, JOB_FINOPS, INFRA)


def make_job(tmp_path: Path, *, compliance: Optional[dict] = None, asset_finops: Optional[dict] = None, job_finops: Optional[dict] = None,
             tags: Optional[dict] = None, provider: str = "aws", name: str = "orders_job"):
    asset: dict = {"name": "orders"}
    if compliance is not None:
        asset["compliance"] = compliance
    if asset_finops is not None:
        asset["finops"] = asset_finops
    (tmp_path / "assets").mkdir(exist_ok=True)
    (tmp_path / "assets" / "orders.yaml").write_text(yaml.safe_dump({"asset": asset}))
    job: dict = {"tenant_id": "acme", "environment": "prod", "asset_path": "assets/orders.yaml",
                 "infrastructure": {"provider": provider, "runtime": {"type": "kubernetes", "cluster_name": "main"}, "tags": tags or {}}}
    if provider == "azure":
        job["infrastructure"]["resource_group"] = "rg"
    if job_finops is not None:
        job["finops"] = job_finops
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return load_job(str(path), assets_dir=str(tmp_path / "none"))


# (id, asset compliance, asset finops, job finops, infrastructure.tags, key, value, level)
PRECEDENCE = [
    ("default-tenant", None, None, None, None, "dativo:tenant", "acme", DEFAULTS),
    ("default-environment", None, None, None, None, "dativo:environment", "prod", DEFAULTS),
    ("default-job-name", None, None, None, None, "dativo:job", "orders-job", DEFAULTS),
    ("default-managed-by", None, None, None, None, "dativo:managed-by", "dativo-infra", DEFAULTS),
    ("compliance-classification", {"classification": ["PII"]}, None, None, None, "dativo:classification", "PII", COMPLIANCE),
    ("compliance-retention", {"retention_days": 30}, None, None, None, "dativo:retention-days", "30", COMPLIANCE),
    ("compliance-regulations-joined", {"regulations": ["PCI-DSS", "GDPR"]}, None, None, None, "dativo:regulations", "PCI-DSS_GDPR", COMPLIANCE),
    ("asset-finops-cost-center", None, {"cost_center": "FIN-001"}, None, None, "dativo:cost-center", "FIN-001", ASSET_FINOPS),
    ("asset-finops-project", None, {"project": "payments"}, None, None, "dativo:project", "payments", ASSET_FINOPS),
    ("asset-finops-business-tags", None, {"business_tags": ["a", "b"]}, None, None, "dativo:business-tags", "a_b", ASSET_FINOPS),
    # an asset serves every environment: its finops.environment is not a tag
    ("asset-finops-environment-ignored", None, {"environment": "production"}, None, None, "dativo:environment", "prod", DEFAULTS),
    ("job-finops-over-asset-finops", None, {"cost_center": "FIN-001"}, {"cost_center": "HR-001"}, None, "dativo:cost-center", "HR-001", JOB_FINOPS),
    ("job-finops-project", None, {"project": "p1"}, {"project": "p2"}, None, "dativo:project", "p2", JOB_FINOPS),
    ("job-finops-business-tags", None, {"business_tags": ["a"]}, {"business_tags": ["x", "y", "z"]}, None, "dativo:business-tags", "x_y_z", JOB_FINOPS),
    ("job-finops-business-tag-string", None, None, {"business_tags": "single"}, None, "dativo:business-tags", "single", JOB_FINOPS),
    ("job-finops-environment-over-default", None, None, {"environment": "production"}, None, "dativo:environment", "production", JOB_FINOPS),
    ("job-finops-environment-over-asset", None, {"environment": "staging"}, {"environment": "production"}, None, "dativo:environment",
     "production", JOB_FINOPS),
    ("infra-over-job-finops", None, {"cost_center": "A"}, {"cost_center": "B"}, {"dativo:cost-center": "C"}, "dativo:cost-center", "C", INFRA),
    ("infra-over-compliance", {"classification": ["PII"]}, None, None, {"dativo:classification": "public"}, "dativo:classification", "public", INFRA),
    ("infra-over-default", None, None, None, {"dativo:managed-by": "platform-team"}, "dativo:managed-by", "platform-team", INFRA),
    ("infra-over-job-environment", None, None, {"environment": "production"}, {"dativo:environment": "live"}, "dativo:environment", "live", INFRA),
    ("infra-verbatim-key", None, None, None, {"CostCenter": "HR-001"}, "CostCenter", "HR-001", INFRA),
    ("infra-bool-value-is-text", None, None, None, {"Shared": True}, "Shared", "true", INFRA),
    ("infra-number-value-is-text", None, None, None, {"Tier": 2}, "Tier", "2", INFRA),
]


@pytest.mark.parametrize("case", PRECEDENCE, ids=[c[0] for c in PRECEDENCE])
def test_precedence_table(case, tmp_path):
    _, compliance, asset_finops, job_finops, tags, key, value, level = case
    job = make_job(tmp_path, compliance=compliance, asset_finops=asset_finops, job_finops=job_finops, tags=tags)
    result = resolved(job).tag_sets["aws"]
    assert result.tags[key] == value
    assert result.provenance[key].level == level
    expected_source = str(tmp_path / "assets" / "orders.yaml") if level in (COMPLIANCE, ASSET_FINOPS) else str(tmp_path / "orders_job.yaml")
    assert result.provenance[key].source == expected_source


def candidate(level: str, key: str = "k", value: Optional[str] = None) -> TagCandidate:
    return TagCandidate(key, value or value_of(level), level, f"{level}.yaml")


def value_of(level: str) -> str:
    return "from-" + level.replace(".", "-")  # valid unchanged in every cloud


@pytest.mark.parametrize("lower,higher", list(combinations(LEVELS, 2)), ids=[f"{h}>{lo}" for lo, h in combinations(LEVELS, 2)])
def test_each_level_overrides_every_level_below(lower, higher):
    for cloud in ("aws", "gcp", "azure", "kubernetes"):
        levels = {lower: [candidate(lower)], higher: [candidate(higher)]}
        result = format_levels(levels, cloud)
        assert result.tags == {"k": value_of(higher)}
        prov = result.provenance["k"]
        assert (prov.level, prov.source) == (higher, f"{higher}.yaml")
        assert [(o.level, o.source, o.value) for o in prov.overrode] == [(lower, f"{lower}.yaml", value_of(lower))]


def test_all_five_levels_on_one_key_keep_the_whole_chain():
    result = format_levels({level: [candidate(level)] for level in LEVELS}, "aws")
    assert result.tags == {"k": "from-infrastructure-tags"}
    assert [o.level for o in result.provenance["k"].overrode] == list(LEVELS[:-1])  # lowest first


def test_provenance_of_a_real_chain(tmp_path):
    job = make_job(tmp_path, asset_finops={"cost_center": "FIN-001"}, job_finops={"cost_center": "HR-001"}, tags={"dativo:cost-center": "X-9"})
    prov = resolved(job).tag_sets["aws"].provenance["dativo:cost-center"].as_dict()
    assert prov == {
        "level": INFRA, "source": str(tmp_path / "orders_job.yaml"), "key": "dativo:cost-center",
        "overrode": [
            {"level": ASSET_FINOPS, "source": str(tmp_path / "assets" / "orders.yaml"), "key": "dativo:cost-center", "value": "FIN-001"},
            {"level": JOB_FINOPS, "source": str(tmp_path / "orders_job.yaml"), "key": "dativo:cost-center", "value": "HR-001"},
        ],
    }


def test_list_separator_is_valid_in_every_cloud():
    """docs/cloud-limits.md §1: a comma is not safe in AWS values; the separator must be valid in AWS, GCP, Azure and Kubernetes values."""
    assert LIST_SEPARATOR != ","
    assert LIST_SEPARATOR in set("+-=._:/@ ")  # AWS: the characters safe in every service, besides letters and digits
    assert LIST_SEPARATOR in set("_-")  # GCP: lowercase letters, digits, '_' and '-'
    assert LIST_SEPARATOR not in set("<>%&\\?/")  # Azure forbids these in names (values are free)
    assert LIST_SEPARATOR in set("-_.")  # Kubernetes label values: [-A-Za-z0-9_.] inside


def test_list_values_join_identically_for_every_cloud(tmp_path):
    job = make_job(tmp_path, compliance={"regulations": ["pci", "gdpr", "sox"]}, job_finops={"business_tags": ["payments", "revenue"]})
    from dativo_infra.tags import tag_set

    for cloud, reg_key, biz_key in (("aws", "dativo:regulations", "dativo:business-tags"), ("azure", "dativo:regulations", "dativo:business-tags"),
                                    ("gcp", "dativo-regulations", "dativo-business-tags"),
                                    ("kubernetes", "dativo.io/regulations", "dativo.io/business-tags")):
        tags = tag_set(job, cloud).tags
        assert tags[reg_key] == "pci_gdpr_sox"
        assert tags[biz_key] == "payments_revenue"


# --- collisions between levels, per cloud -------------------------------------------------


def test_gcp_collision_between_levels_is_resolved_by_precedence(tmp_path, cli):
    job = make_job(tmp_path, provider="gcp", job_finops={"cost_center": "HR-001"}, tags={"dativo_cost_center": "fin-7"})
    result = resolved(job).tag_sets["gcp"]
    assert result.tags["dativo-cost-center"] == "fin-7"
    prov = result.provenance["dativo-cost-center"]
    assert (prov.level, prov.key) == (INFRA, "dativo_cost_center")
    assert [(o.level, o.key, o.value) for o in prov.overrode] == [(JOB_FINOPS, "dativo:cost-center", "hr-001")]
    code, out, _ = cli("tags", "--assets-dir", tmp_path / "none", tmp_path / "orders_job.yaml", "--explain")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("dativo-cost-center "))
    assert line.split(" = ", 1)[1] == f"fin-7    [{INFRA}: {tmp_path / 'orders_job.yaml'}] overrode {JOB_FINOPS} dativo:cost-center='hr-001'"


def test_azure_case_collision_between_levels_is_resolved_by_precedence(tmp_path, cli):
    job = make_job(tmp_path, provider="azure", tags={"Dativo:Managed-By": "Platform"})
    result = resolved(job).tag_sets["azure"]
    assert "dativo:managed-by" not in result.tags
    assert result.tags["Dativo:Managed-By"] == "Platform"
    assert [(o.level, o.key, o.value) for o in result.provenance["Dativo:Managed-By"].overrode] == [(DEFAULTS, "dativo:managed-by", "dativo-infra")]
    code, out, _ = cli("tags", "--assets-dir", tmp_path / "none", tmp_path / "orders_job.yaml", "--explain")
    assert code == 0
    assert f"overrode {DEFAULTS} dativo:managed-by='dativo-infra'" in next(ln for ln in out.splitlines() if ln.startswith("Dativo:Managed-By "))


@pytest.mark.parametrize("provider,key", [("aws", "dativo:tenant"), ("aws", "dativo:job"), ("azure", "Dativo:Tenant"),
                                          ("gcp", "dativo-tenant"), ("gcp", "Dativo_Job"), ("aws", "Dativo:Tenant"), ("aws", "DATIVO:JOB")])
def test_the_identity_keys_come_from_the_job_and_no_level_overrides_them(tmp_path, provider, key):
    """dativo:tenant / dativo:job decide access conditions and cost reports: a key that becomes one of them in the cloud is an error."""
    job = make_job(tmp_path, provider=provider, tags={key: "acme"})
    with pytest.raises(ConfigError) as info:
        resolved(job)
    assert any(p.field == f"infrastructure.tags.{key}" and "always comes from the job itself" in p.message for p in info.value.problems)


def test_collision_within_one_level_is_an_error_naming_both_keys():
    levels = {JOB_FINOPS: [candidate(JOB_FINOPS, "Owner", "a"), candidate(JOB_FINOPS, "owner", "b")]}
    with pytest.raises(TagError) as info:
        format_levels(levels, "azure")
    assert "keys 'Owner' and 'owner' of the same level both become 'owner' in azure tags" in str(info.value)
    assert format_levels(levels, "aws").tags == {"Owner": "a", "owner": "b"}  # AWS keys are case-sensitive


def test_over_limit_names_count_limit_and_levels():
    levels = {DEFAULTS: [candidate(DEFAULTS, f"d{i}") for i in range(4)], JOB_FINOPS: [candidate(JOB_FINOPS, f"j{i}") for i in range(3)],
              INFRA: [candidate(INFRA, f"t{i}") for i in range(44)]}
    with pytest.raises(TagError) as info:
        format_levels(levels, "aws")
    (problem,) = info.value.problems
    assert problem.message == ("52 tags after merging, more than aws's limit of 50 per resource (from defaults 4, job.finops 3, "
                               "infrastructure.tags 44, plus Name that dativo-infra adds to some resources)")
    levels[INFRA] = levels[INFRA][:42]
    assert len(format_levels(levels, "aws").tags) == 49  # and the security group's Name makes 50


# --- the command line ------------------------------------------------------------------------


def test_tags_json_shape(tmp_path, cli):
    make_job(tmp_path, compliance={"classification": ["PII"]}, asset_finops={"cost_center": "FIN-001"}, job_finops={"cost_center": "HR-001"},
             tags={"Team": "data"})
    code, out, _ = cli("tags", "--assets-dir", tmp_path / "none", tmp_path / "orders_job.yaml", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["provider", "tags", "provenance"]
    assert data["provider"] == "aws"
    assert data["tags"] == {
        "Team": "data", "dativo:classification": "PII", "dativo:cost-center": "HR-001", "dativo:environment": "prod",
        "dativo:job": "orders-job", "dativo:managed-by": "dativo-infra", "dativo:tenant": "acme",
    }
    assert set(data["provenance"]) == set(data["tags"])
    for entry in data["provenance"].values():
        assert {"level", "source", "overrode"} <= set(entry)
        assert entry["level"] in LEVELS and isinstance(entry["overrode"], list)
    assert data["provenance"]["dativo:cost-center"]["level"] == JOB_FINOPS
    assert [o["level"] for o in data["provenance"]["dativo:cost-center"]["overrode"]] == [ASSET_FINOPS]
    assert data["provenance"]["dativo:classification"]["source"] == str(tmp_path / "assets" / "orders.yaml")


def test_tags_for_another_provider(tmp_path, cli):
    make_job(tmp_path, job_finops={"cost_center": "HR-001"})
    code, out, _ = cli("tags", "--assets-dir", tmp_path / "none", tmp_path / "orders_job.yaml", "--provider", "kubernetes", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["provider"] == "kubernetes"
    assert data["tags"]["dativo.io/cost-center"] == "HR-001"
    assert data["provenance"]["dativo.io/cost-center"]["key"] == "dativo:cost-center"


def test_tags_explain_lines(tmp_path, cli):
    make_job(tmp_path, job_finops={"environment": "production"})
    code, out, err = cli("tags", "--assets-dir", tmp_path / "none", tmp_path / "orders_job.yaml", "--explain")
    assert code == 0
    job = tmp_path / "orders_job.yaml"
    assert out.splitlines() == [
        f"dativo:environment = production    [{JOB_FINOPS}: {job}] overrode {DEFAULTS} dativo:environment='prod'",
        f"dativo:job         = orders-job    [{DEFAULTS}: {job}]",
        f"dativo:managed-by  = dativo-infra    [{DEFAULTS}: {job}]",
        f"dativo:tenant      = acme    [{DEFAULTS}: {job}]",
    ]
    assert "4 aws tags for orders-job (acme/prod)" in err


def test_tags_of_a_job_without_infrastructure(tmp_path, cli, write):
    job = write("plain.yaml", "tenant_id: acme\nenvironment: prod\n")
    code, out, err = cli("tags", job)
    assert code == 2
    assert f"{job}: job has no infrastructure block, so no provider; pass --provider to see its tags for a cloud" in err
    code, out, _ = cli("tags", job, "--provider", "gcp", "--json")
    assert code == 0
    assert json.loads(out)["tags"]["dativo-tenant"] == "acme"


def test_tags_of_an_invalid_job_exit_2(tmp_path, cli, write):
    job = write("bad.yaml", "tenant_id: acme\nenvironment: prod\ninfrastructure:\n  provider: gcp\n  runtime: {type: kubernetes, cluster_name: gke}\n"
                            "  tags:\n    a_b: x\n    a-b: y\n")
    code, out, err = cli("tags", job, "--json")
    assert code == 2
    data = json.loads(out)
    assert data["ok"] is False
    assert data["errors"][0]["field"] == "infrastructure.tags.a-b"
    assert "Traceback" not in out + err


def test_the_identity_keys_are_protected_in_kubernetes_labels_in_any_case(tmp_path):
    job = make_job(tmp_path, provider="gcp", tags={"Dativo.io/Tenant": "acme"})
    with pytest.raises(ConfigError) as info:
        resolved(job)
    assert any("'Dativo.io/Tenant' is 'dativo:tenant' in kubernetes labels (in any case)" in p.message for p in info.value.problems)
