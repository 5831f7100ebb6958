"""Model limits: finite numbers, no booleans for counts, canonical time zones, crons that fire, both asset layouts, asset containment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from dativo_infra.errors import ConfigError
from dativo_infra.jobs.assets import AssetCache
from dativo_infra.jobs.cron import problems as cron_problems
from dativo_infra.jobs.models import ComputeConfig, RetryConfig, Schedule
from dativo_infra.jobs.strict_yaml import load_mapping

from .conftest import REFERENCE_JOBS


def _error(model, text: str) -> str:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(load_mapping("f.yaml", text))
    return " | ".join(e["msg"] for e in exc.value.errors())


# --- numbers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["initial_delay_seconds", "max_delay_seconds", "backoff_multiplier"])
@pytest.mark.parametrize("value, wanted", [(".nan", "finite"), (".inf", "finite"), ("-.inf", "finite"), ("-5", "greater than or equal to 0"),
                                           ("true", "got the boolean true")])
def test_retry_numbers_are_finite_and_not_negative(field, value, wanted):
    assert wanted in _error(RetryConfig, f"{field}: {value}\n")


def test_retry_numbers_in_range_are_kept():
    config = RetryConfig.model_validate(load_mapping("f.yaml", "initial_delay_seconds: 0\nmax_delay_seconds: 1.5\nbackoff_multiplier: 2\nmax_attempts: 3\n"))
    assert (config.initial_delay_seconds, config.max_delay_seconds, config.backoff_multiplier, config.max_attempts) == (0, 1.5, 2, 3)


@pytest.mark.parametrize("text", ["max_runtime_seconds: true", "max_runtime_seconds: false", "max_runtime_seconds: 0", "max_runtime_seconds: .inf",
                                  "max_runtime_seconds: 1.5", "cpu: .nan", "cpu: .inf", "cpu: -.inf", "memory: .nan"])
def test_compute_rejects_booleans_and_non_finite_numbers(text):
    with pytest.raises(ValidationError):
        ComputeConfig.model_validate(load_mapping("f.yaml", text + "\n"))


def test_max_attempts_is_not_a_boolean():
    assert "got the boolean true" in _error(RetryConfig, "max_attempts: true\n")


# --- time zones -------------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "America/Port-au-Prince", "US/Eastern"])
def test_canonical_zones_are_accepted(zone):
    assert Schedule(cron="0 2 * * *", timezone=zone).timezone == zone


@pytest.mark.parametrize("zone, wanted", [
    ("localtime", "not a canonical IANA name"), ("posixrules", "not a canonical IANA name"), ("Factory", "not a canonical IANA name"),
    ("right/UTC", "not a canonical IANA name"), ("posix/Europe/Berlin", "not a canonical IANA name"),
    ("America", "unknown time zone"), ("Europe", "unknown time zone"), ("Mars/Olympus", "unknown time zone"),
    ("../../etc/passwd", "not an IANA name"), ("/etc/localtime", "not an IANA name"), ("Europe/../UTC", "not an IANA name"),
    ("A" * 65, "not an IANA name"), ("", "not an IANA name"), ("Europe/Berlin\x00", "not an IANA name"), ("UTC ", "not an IANA name"),
])
def test_other_zone_names_are_refused_plainly(zone, wanted):
    with pytest.raises(ValidationError) as exc:
        Schedule(cron="0 2 * * *", timezone=zone)
    message = exc.value.errors()[0]["msg"]
    assert wanted in message and "'Europe/Berlin'" in message


# --- crons that never fire --------------------------------------------------------------------------

@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "0 0 30-31 2 ?", "0 0 31 APR *", "0 0 31 feb *"])
def test_a_cron_that_never_fires_is_a_problem(cron):
    (message,) = cron_problems(cron)
    assert "never runs" in message


@pytest.mark.parametrize("cron", ["0 0 29 2 *", "0 0 31 2 1", "0 0 30 2 MON", "0 0 31 */2 *", "0 0 31 FEB-APR *", "0 0 L 2 *", "0 0 30W 2 *",
                                  "0 0 31 * *", "0 0 1-31 2 *", "0 0 * 2 *"])
def test_a_cron_that_fires_sometimes_is_fine(cron):
    assert list(cron_problems(cron)) == []


def test_the_schedule_model_rejects_a_cron_that_never_fires():
    with pytest.raises(ValidationError, match="never runs"):
        Schedule(cron="0 0 30 2 *")


# --- asset layouts ----------------------------------------------------------------------------------

NESTED = """asset:
  name: orders
  compliance: {classification: [PII], retention_days: 30, regulations: GDPR}
  finops: {cost_center: FIN-1, business_tags: [sales], project: shop}
"""
FLAT = """apiVersion: v3.0.2
kind: DataContract
name: orders
team: {owner: data@example.com}
tags: [a, b]
compliance: {classification: [PII], retention_days: 30, regulations: GDPR}
finops: {cost_center: FIN-1, business_tags: [sales], project: shop}
"""


def test_the_flat_odcs_layout_gives_the_same_asset_as_the_nested_one(write, tmp_path):
    nested, flat = write("assets/nested.yaml", NESTED), write("assets/flat.yaml", FLAT)
    cache = AssetCache(str(tmp_path / "assets"))
    a, b = cache.load(str(nested)), cache.load(str(flat))
    assert (a.name, a.compliance, a.finops) == (b.name, b.compliance, b.finops)
    assert b.compliance.regulations == ["GDPR"] and b.finops.cost_center == "FIN-1"


@pytest.mark.parametrize("name", ["csv/v1.0/test_asset.yaml", "markdown_kv/v1.0/docs.yaml", "stripe/v1.0/customers.yaml", "hubspot/v1.0/contacts.yaml"])
def test_every_reference_asset_loads(name):
    asset = AssetCache(str(REFERENCE_JOBS / "assets")).load(str(REFERENCE_JOBS / "assets" / name))
    assert asset.name


def test_a_flat_asset_error_has_its_line_and_names_the_job(write, tmp_path):
    bad = write("assets/bad.yaml", "apiVersion: v3.0.2\nkind: DataContract\nname: x\ncompliance:\n  retention_days: -1\n")
    with pytest.raises(ConfigError) as exc:
        AssetCache(str(tmp_path / "assets")).load(str(bad), job_file="jobs/j.yaml")
    (problem,) = exc.value.problems
    assert (problem.file, problem.line, problem.field) == (str(bad), 5, "compliance.retention_days")
    assert problem.message.endswith(" (the asset of job jobs/j.yaml)")


def test_a_file_with_neither_layout_says_asset_is_missing(write, tmp_path):
    bad = write("assets/none.yaml", "name: x\n")
    with pytest.raises(ConfigError) as exc:
        AssetCache(str(tmp_path / "assets")).load(str(bad))
    assert [p.field for p in exc.value.problems] == ["asset"]


# --- where an asset file may live -------------------------------------------------------------------

@pytest.fixture
def tree(write, tmp_path):
    job = write("repo/jobs/acme/job.yaml", "tenant_id: acme\n")
    write("repo/jobs/assets/stripe/v1.0/customers.yaml", NESTED)
    write("repo/jobs/acme/local.yaml", NESTED)
    write("repo/outside/secret.yaml", NESTED)
    return job, tmp_path / "repo"


@pytest.mark.parametrize("asset_path", ["/app/assets/stripe/v1.0/customers.yaml", "local.yaml", "stripe/v1.0/customers.yaml"])
def test_assets_inside_the_allowed_folders_are_found(tree, asset_path):
    job, repo = tree
    found, asset = AssetCache(str(repo / "jobs" / "assets")).find(asset_path, str(job))
    assert asset.name == "orders" and Path(found).is_file()


@pytest.mark.parametrize("asset_path", ["/etc/passwd", "/proc/self/status", "../../outside/secret.yaml", "../../../../../../../../etc/hostname"])
def test_assets_outside_are_refused_naming_the_job_and_the_setting(tree, asset_path):
    job, repo = tree
    cache = AssetCache(str(repo / "jobs" / "assets"))
    with pytest.raises(ConfigError) as exc:
        cache.find(asset_path, str(job))
    (problem,) = exc.value.problems
    assert problem.file == str(job) and problem.field == "asset_path"
    assert f"(asset_path of job {job})" in problem.message and "--assets-dir" in problem.message
    assert "root:" not in problem.message  # nothing of the file is read
    assert cache.resolve(asset_path, str(job))[0] is None


def test_a_link_out_of_the_assets_folder_is_refused(tree):
    job, repo = tree
    os.symlink(repo / "outside" / "secret.yaml", repo / "jobs" / "assets" / "link.yaml")
    with pytest.raises(ConfigError, match="is outside the folders"):
        AssetCache(str(repo / "jobs" / "assets")).find("link.yaml", str(job))


def test_the_assets_dir_option_widens_the_allowed_folders(tree):
    job, repo = tree
    found, _ = AssetCache(str(repo / "outside")).find("../../outside/secret.yaml", str(job))
    assert os.path.realpath(found) == os.path.realpath(repo / "outside" / "secret.yaml")


def test_an_asset_that_is_not_a_regular_file_is_refused(tree):
    job, repo = tree
    os.mkfifo(repo / "jobs" / "assets" / "pipe.yaml")
    with pytest.raises(ConfigError, match="named pipe"):
        AssetCache(str(repo / "jobs" / "assets")).find("pipe.yaml", str(job))


def test_a_missing_asset_lists_the_places_tried(tree):
    job, repo = tree
    with pytest.raises(ConfigError) as exc:
        AssetCache(str(repo / "jobs" / "assets")).find("nope.yaml", str(job))
    assert "not found; looked in:" in exc.value.problems[0].message
