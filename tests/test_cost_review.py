"""Review of `dativo-infra cost` (issue 15): jobs written as a tenant would, costed by hand from the shipped tables, and the
hostile input that used to end in an internal error, a hang or a misleading answer (one regression test each)."""
from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from dativo_infra.cost import StackCost, estimate_job, load_prices
from dativo_infra.cost.estimate import money
from dativo_infra.errors import ConfigError
from tests.conftest import ROOT

PRICES = ROOT / "dativo_infra" / "cost" / "prices"
STACK = """config:
  dativo-infra:tenant: t1
  dativo-infra:environment: prod
  aws:region: us-east-1
  gcp:project: p1
  gcp:region: us-central1
  dativo-infra:nodePrices: {vcpuHour: "VCPU", gibHour: "0.00413"}
"""
HEAD = """tenant_id: t1
environment: prod
source_connector: stripe
source_connector_path: /app/connectors/stripe.yaml
target_connector: iceberg
target_connector_path: /app/connectors/iceberg.yaml
target: {branch: t1, warehouse: "s3://t1-lake/"}
"""
NETWORK = "  networking: {vpc_id: vpc-0123456789abcdef0, subnet_ids: [subnet-0123456789abcdef0], security_group_ids: [sg-0123456789abcdef0]}\n"
JOBS = {
    # Berlin 02:30 daily: on 25 Oct 2026 02:30 happens twice; Kubernetes' CronJob fires at both
    "berlin_k8s": """infrastructure:
  provider: gcp
  region: europe-west3
  runtime: {type: kubernetes, cluster_name: c, namespace: ns, schedule: {cron: "30 2 * * *", timezone: Europe/Berlin}}
  compute: {cpu: "1500m", memory: "3Gi", max_runtime_seconds: 4000}
finops: {cost_center: CC-2, expected_runtime_seconds: 2345.6}
""",
    # ... and EventBridge (ECS) once; 1799.2 s bills 1800 s
    "berlin_ecs": """infrastructure:
  provider: aws
  runtime: {type: ecs, cluster_name: c, schedule: {cron: "30 2 * * *", timezone: Europe/Berlin}}
  compute: {cpu: "2048", memory: "5120", max_runtime_seconds: 7200}
""" + NETWORK + """finops: {cost_center: CC-1, expected_runtime_seconds: 1799.2}
""",
    # ARM, 45 s bills the 60 s minimum, 50 GiB of task storage is 30 beyond the included 20
    "arm": """infrastructure:
  provider: aws
  runtime: {type: ecs, cluster_name: c, schedule: "*/5 * * * *"}
  compute: {cpu: "512", memory: "2048", max_runtime_seconds: 600, architecture: arm64, ephemeral_storage_gib: 50}
""" + NETWORK + """finops: {cost_center: CC-3, expected_runtime_seconds: 45}
""",
}


def price(cloud: str, item: str, region: str) -> Decimal:
    entries = yaml.safe_load((PRICES / f"{cloud}.yaml").read_text())["prices"]
    return next(Decimal(p["price"]) for p in entries if p["item"] == item and p["region"] == region)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def make_project(base: Path, vcpu_hour: str = "0.0371") -> Path:
    (base / "jobs" / "t1").mkdir(parents=True)
    (base / "Pulumi.yaml").write_text("name: dativo-infra\nruntime: python\n")
    (base / "Pulumi.t1-prod.yaml").write_text(STACK.replace("VCPU", vcpu_hour))
    for name, body in JOBS.items():
        (base / "jobs" / "t1" / f"{name}.yaml").write_text(HEAD + body)
    return base


def cost_json(cli, project: Path, *args):
    code, out, err = cli("cost", *args, "--project-dir", project, "--json")
    return code, json.loads(out), err


def test_hand_costed_jobs_in_a_dst_month(cli, tmp_path):
    project = make_project(tmp_path / "p")
    code, data, err = cost_json(cli, project, "--all", "--month", "2026-10", "--by", "dativo:cost-center")
    assert code == 0, err
    got = {j["job"]: j for j in data["jobs"]}
    # Kubernetes: 31 days + the repeated 02:30 = 32 runs of 2345.6 s (no rounding), 1.5 vCPU and 3 GiB at the stack's node prices
    hours = Decimal(32) * Decimal("2345.6") / 3600
    k8s = cents(hours * Decimal("1.5") * Decimal("0.0371") + hours * 3 * Decimal("0.00413"))
    # ECS: 31 runs of 1800 s, 2 vCPU, 5 GB
    hours = Decimal(31) * 1800 / Decimal(3600)
    ecs = cents(hours * 2 * price("aws", "fargate.vcpu_hour.x86_64", "us-east-1") + hours * 5 * price("aws", "fargate.gb_hour.x86_64", "us-east-1"))
    # ARM: 31 × 288 runs of 60 s, 0.5 vCPU, 2 GB, 30 GB of storage
    hours = Decimal(31 * 288) * 60 / 3600
    arm = cents(hours * Decimal("0.5") * price("aws", "fargate.vcpu_hour.arm64", "us-east-1") + hours * 2 * price("aws", "fargate.gb_hour.arm64", "us-east-1")
                + hours * 30 * price("aws", "fargate.ephemeral_storage_gb_hour", "us-east-1"))
    assert (got["berlin-k8s"]["runs_per_month"], got["berlin-ecs"]["runs_per_month"], got["arm"]["runs_per_month"]) == (32, 31, 8928)
    assert [Decimal(str(got[j]["monthly_cost"])) for j in ("berlin-k8s", "berlin-ecs", "arm")] == [k8s, ecs, arm]
    assert Decimal(str(data["total"])) == k8s + ecs + arm == sum(Decimal(str(g["monthly_cost"])) for g in data["groups"])


# --- money: exact at any size (Decimal's 28 digits used to raise InvalidOperation: exit 70) --------------------------------

def test_money_rounds_half_up_exactly_at_any_size():
    assert money(Fraction(5, 1000)) == Decimal("0.01") and money(Fraction(4999, 1000000)) == Decimal("0.00")
    assert str(money(Fraction(10**40) + Fraction(1, 200))) == "1" + "0" * 40 + ".01"  # beyond Decimal's 28 digits
    assert str(money(Fraction(10**40) + Fraction(1, 3))) == "1" + "0" * 40 + ".33"


def ecs_job(**finops) -> dict:
    return {"cloud_provider": "aws", "runtime_type": "ecs", "region": "us-east-1", "tenant_id": "t1", "environment": "prod", "job_name": "j",
            "tags": {}, "schedule_cron": "0 2 * * *", "schedule_timezone": "UTC", "max_runtime_seconds": 1200, "compute_cpu": 1,
            "compute_memory": 2048, "cpu_units": 1024, "finops_estimate": finops}


def test_an_expected_runtime_beyond_the_limit_costs_the_limit():
    book = load_prices(None)
    at_limit = estimate_job(ecs_job(expected_runtime_seconds=1200), book, month=(2026, 3))
    for expected in (1200.5, 1e300):
        estimate = estimate_job(ecs_job(expected_runtime_seconds=expected), book, month=(2026, 3))
        assert estimate.seconds_per_run == 1200 and estimate.monthly_cost == at_limit.monthly_cost
        assert any("longer than max_runtime_seconds" in note for note in estimate.notes)


def test_an_absurd_size_is_a_problem_not_an_internal_error(cli, tmp_path):
    with pytest.raises(ConfigError, match="10\\^12 or more"):
        estimate_job({**ecs_job(), "max_runtime_seconds": 10**25}, load_prices(None))
    project = make_project(tmp_path / "p")
    job = project / "jobs" / "t1" / "arm.yaml"
    job.write_text(job.read_text().replace("max_runtime_seconds: 600", "max_runtime_seconds: 99999999999999999999999")
                                  .replace("expected_runtime_seconds: 45", "expected_runtime_seconds: 1e300"))
    code, data, _ = cost_json(cli, project, str(job))
    assert code == 2 and data["ok"] is False and "10^12 or more" in data["errors"][0]["message"]


# --- stack settings: a huge exponent used to build a million-digit number (16 s, then decimal.Overflow) ----------------

@pytest.mark.parametrize("amount", ["1e999999", "1e-999999", "1e15", "0.0000000000001"])
def test_stack_amounts_are_bounded(amount):
    with pytest.raises(ConfigError, match="out of range"):
        StackCost.from_config({"dativo-infra:nodePrices": {"vcpuHour": amount, "gibHour": "0.1"}}, "Pulumi.t1-prod.yaml")
    with pytest.raises(ConfigError, match="out of range"):
        StackCost.from_config({"dativo-infra:monthlyBudget": amount}, "Pulumi.t1-prod.yaml")
    assert StackCost.from_config({"dativo-infra:nodePrices": {"vcpuHour": 0.0049225, "gibHour": "1e-05"}}).node_prices is not None


def test_a_stack_node_price_out_of_range_is_exit_2(cli, tmp_path):
    project = make_project(tmp_path / "p", vcpu_hour="1e999999")
    code, data, _ = cost_json(cli, project, "--all")
    assert code == 2 and data["ok"] is False and "out of range" in json.dumps(data["errors"])


# --- the command line ---------------------------------------------------------------------------------------------------

def test_the_last_month_python_can_end(cli, tmp_path):
    project = make_project(tmp_path / "p")
    code, data, _ = cost_json(cli, project, "--all", "--month", "9999-12")  # used to fail per job: "year 10000 is out of range"
    assert code == 2 and [e["file"] for e in data["errors"]] == ["--month"]
    code, data, _ = cost_json(cli, project, "--all", "--month", "9998-12")
    assert code == 0 and data["month"] == "9998-12"


def test_empty_option_values_are_refused(cli, tmp_path):
    project = make_project(tmp_path / "p")
    code, data, _ = cost_json(cli, project, "--all", "--by", "")  # used to group by tenant
    assert code == 2 and data["errors"][0]["file"] == "--by"
    for option in ("--compare-to", "--tfvars"):  # used to print a plain estimate, as if not given
        code, out, err = cli("cost", "--all", option, "", "--project-dir", project)
        assert code == 2 and not out and f"{option} needs a value" in err


def test_a_folder_that_is_no_project_is_no_base(cli, tmp_path):
    project = make_project(tmp_path / "p")
    (tmp_path / "elsewhere").mkdir()
    code, data, _ = cost_json(cli, project, "--all", "--compare-to", tmp_path / "elsewhere")  # used to say every job was added
    assert code == 2 and "not another copy of the project folder" in data["errors"][0]["message"]


def test_no_job_of_the_selected_tenant_says_which(cli, tmp_path):
    project = make_project(tmp_path / "p")
    code, data, _ = cost_json(cli, project, "--all", "--tenant", "t1", "--environment", "staging")
    assert code == 2 and "no job files found of tenant 't1' and environment 'staging'" in data["errors"][0]["message"]


@pytest.mark.parametrize("amount", ['"-0.04"', '"NaN"', '"1e3"'])
def test_a_bad_price_is_said_in_words(cli, tmp_path, amount):
    prices = tmp_path / "prices.yaml"
    prices.write_text("cloud: aws\ncurrency: USD\nprices:\n  - {item: fargate.vcpu_hour.x86_64, service: AWS Fargate, region: us-east-1, "
                      f"unit: vCPU-hour, price: {amount}, source: s, read_on: \"2026-01-01\", quality: primary}}\n")
    code, data, _ = cost_json(cli, ROOT, "--all", "--prices", prices)
    assert code == 2 and data["errors"][0]["field"] == "prices[0].price"
    assert data["errors"][0]["message"].startswith("must be an amount as a decimal string") and "^" not in data["errors"][0]["message"]


def test_every_minute_in_a_dst_zone_is_counted_not_iterated(tmp_path):
    # 31 × 1440 minutes, less the hour that never happens on 29 March: arithmetic, so no need to time it
    variables = {**ecs_job(), "schedule_cron": "* * * * *", "schedule_timezone": "Europe/Berlin"}
    assert estimate_job(variables, load_prices(None), month=(2026, 3)).runs_per_month == 31 * 1440 - 60
    assert math.isclose(float(estimate_job(variables, load_prices(None)).runs_per_month), 30.436875 * 1440 - 5)


# --- variables read back from a hand-edited tfvars file (cost --tfvars): anything can be there ------------------------------

@pytest.mark.parametrize("zone", ["America", "A" * 5000, "Nope/Zone", "../../etc/passwd"])
def test_a_bad_time_zone_is_a_problem(zone):
    # 'America' (a folder) and a 5,000-character name were OSErrors inside zoneinfo: exit 70; 'Nope/Zone' said "missing variable"
    with pytest.raises(ConfigError, match="time zone") as caught:
        estimate_job({**ecs_job(), "schedule_timezone": zone}, load_prices(None))
    assert "missing variable" not in str(caught.value.problems)


@pytest.mark.parametrize("name, value", [("max_runtime_seconds", -5), ("cpu_units", 0), ("compute_memory", -2048),
                                         ("compute_memory", float("nan")), ("ephemeral_storage_gib", float("inf"))])
def test_sizes_and_durations_must_be_positive(name, value):
    # a negative memory used to give a lower (even negative) cost; an infinite storage an OverflowError (exit 70)
    with pytest.raises(ConfigError, match=f"{name} .* must be a finite number greater than 0"):
        estimate_job({**ecs_job(), name: value}, load_prices(None))


def test_finops_amounts_must_not_be_negative():
    with pytest.raises(ConfigError, match="greater than 0"):
        estimate_job(ecs_job(expected_runtime_seconds=0), load_prices(None))
    with pytest.raises(ConfigError, match="of 0 or more"):
        estimate_job(ecs_job(expected_storage_gb_per_run=-3), load_prices(None))


def test_a_region_without_a_price_is_placed_on_its_line(cli, tmp_path):
    project = make_project(tmp_path / "p")
    job = project / "jobs" / "t1" / "berlin_ecs.yaml"
    job.write_text(job.read_text().replace("  provider: aws\n", "  provider: aws\n  region: eu-central-1\n"))
    code, data, _ = cost_json(cli, project, str(job))
    problem = data["errors"][0]
    assert code == 2 and problem["field"] == "infrastructure.region" and "'eu-central-1'" in problem["message"] and "--prices" in problem["message"]
    assert job.read_text().splitlines()[problem["line"] - 1].strip() == "region: eu-central-1"  # the line was null


def test_csv_numbers_are_never_in_exponent_notation(cli, tmp_path):
    import csv
    import io

    project = make_project(tmp_path / "p")
    code, out, _ = cli("cost", "--all", "--csv", "--month", "2026-11", "--project-dir", project)
    rows = {r["x_Job"]: r for r in csv.DictReader(io.StringIO(out))}
    # 30 runs were written "3E+1", 8640 runs "8.64E+3" (Decimal.normalize), 3600 s "3.6E+3"
    assert code == 0 and (rows["berlin-ecs"]["x_RunsPerMonth"], rows["arm"]["x_RunsPerMonth"], rows["arm"]["x_SecondsPerRun"]) == ("30", "8640", "45")


def test_tfvars_names_cannot_reach_a_file_outside_the_project(cli, tmp_path):
    project = make_project(tmp_path / "p")
    (tmp_path / "secret.yaml").write_text('config:\n  dativo-infra:monthlyBudget: "TOP-SECRET"\n')
    code, _, err = cli("terraform", "export", "--all", project / "jobs", "--output-dir", tmp_path / "tfvars", "--format", "json",
                       "--project-dir", project)
    assert code == 0, err
    exported = next((tmp_path / "tfvars").rglob("arm.tfvars.json"))
    variables = json.loads(exported.read_text())
    # the stack file is Pulumi.<tenant>-<environment>.yaml, normalised: this environment named ../secret.yaml
    variables.update(tenant_id="x", environment="../" * len(project.parts) + str(tmp_path / "secret").lstrip("/"))
    exported.write_text(json.dumps(variables))
    code, data, _ = cost_json(cli, project, "--tfvars", tmp_path / "tfvars")
    assert code == 2 and "TOP-SECRET" not in json.dumps(data)
    assert any(e["field"] == "environment" and "lowercase letters" in e["message"] for e in data["errors"])
