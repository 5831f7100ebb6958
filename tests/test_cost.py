"""Estimates by value: each expected cost is computed here by hand from the shipped price tables (read from the files)."""
from __future__ import annotations

import calendar
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
import yaml

from dativo_infra.cost import PriceError, StackCost, check_budgets, check_by, estimate_job, focus_csv, free_grant_lines, load_prices, rollup, total
from dativo_infra.errors import ConfigError

PRICES = Path(__file__).resolve().parent.parent / "dativo_infra" / "cost" / "prices"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cost"


def table(cloud: str) -> dict[tuple[str, str], Decimal]:
    data = yaml.safe_load((PRICES / f"{cloud}.yaml").read_text())
    return {(p["item"], p["region"]): Decimal(p["price"]) for p in data["prices"]}


def grants(cloud: str) -> dict[str, Decimal]:
    data = yaml.safe_load((PRICES / f"{cloud}.yaml").read_text())
    return {g["item"]: Decimal(g["quantity"]) for g in data.get("free_grants", [])}


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def exact(expression):
    """Evaluate with 50 significant digits: enough that only the final rounding to the cent matters."""
    with localcontext() as ctx:
        ctx.prec = 50
        return expression()


def job(**overrides: Any) -> dict[str, Any]:
    base = {"cloud_provider": "aws", "runtime_type": "ecs", "region": "us-east-1", "tenant_id": "acme", "environment": "prod",
            "job_name": "orders", "tags": {"dativo:cost-center": "FIN-1", "dativo:project": "p1"}, "schedule_cron": "0 2 * * *",
            "schedule_timezone": "UTC", "max_runtime_seconds": 3600, "compute_cpu": 1, "compute_memory": 2048, "cpu_units": 1024,
            "finops_estimate": {"expected_runtime_seconds": None, "monthly_budget": None, "expected_storage_gb_per_run": None,
                                "expected_log_gb_per_run": None}}
    base.update(overrides)
    return base


@pytest.fixture(scope="module")
def book():
    return load_prices(None)


def weekdays(year: int, month: int) -> int:
    return sum(1 for d in range(1, calendar.monthrange(year, month)[1] + 1) if calendar.weekday(year, month, d) < 5)


def test_fargate_x86_over_a_dst_month(book):
    # Berlin 02:30 daily in March 2026: 31 days, 02:30 on the 29th never happens → 30 runs. 90.4 s bills 91 s.
    variables = job(schedule_cron="30 2 * * *", schedule_timezone="Europe/Berlin",
                    finops_estimate={"expected_runtime_seconds": 90.4}, cpu_units=1024, compute_memory=2048)
    estimate = estimate_job(variables, book, month=(2026, 3))
    prices = table("aws")
    hours = exact(lambda: Decimal(30) * 91 / 3600)
    expected = exact(lambda: hours * 1 * prices[("fargate.vcpu_hour.x86_64", "us-east-1")] + hours * 2 * prices[("fargate.gb_hour.x86_64", "us-east-1")])
    assert estimate.runs_per_month == 30 and estimate.billed_seconds_per_run == 91
    assert estimate.monthly_cost == cents(expected)
    assert estimate.as_dict()["duration_is_upper_bound"] is False


def test_eventbridge_fires_a_repeated_hour_once(book):
    # New York, 01:30 daily in November 2026: 01:30 happens twice on the 1st. EventBridge (ECS) runs once; Kubernetes twice.
    ecs = estimate_job(job(schedule_cron="30 1 * * *", schedule_timezone="America/New_York"), book, month=(2026, 11))
    assert ecs.runs_per_month == 30
    nodes = StackCost.from_config({"dativo-infra:nodePrices": {"vcpuHour": "1", "gibHour": "0"}}, "Pulumi.acme-prod.yaml")
    k8s = estimate_job(job(runtime_type="kubernetes", schedule_cron="30 1 * * *", schedule_timezone="America/New_York",
                           request_cpu="1", request_memory="1Gi", max_runtime_seconds=3600), book, month=(2026, 11), stack=nodes)
    assert k8s.runs_per_month == 31 and k8s.monthly_cost == Decimal("31.00")


def test_fargate_arm_with_ephemeral_storage_and_the_one_minute_minimum(book):
    # every 6 hours in February 2026 (28 days): 112 runs of 30 s, billed as 60 s each; 0.5 vCPU, 1 GB, 50 GiB storage (30 beyond 20)
    variables = job(schedule_cron="0 */6 * * *", cpu_units=512, compute_memory=1024, cpu_architecture="ARM64", ephemeral_storage_gib=50,
                    finops_estimate={"expected_runtime_seconds": 30})
    estimate = estimate_job(variables, book, month=(2026, 2))
    prices = table("aws")
    hours = exact(lambda: Decimal(112) * 60 / 3600)
    expected = exact(lambda: hours * (Decimal("0.5") * prices[("fargate.vcpu_hour.arm64", "us-east-1")]
                                      + 1 * prices[("fargate.gb_hour.arm64", "us-east-1")]
                                      + 30 * prices[("fargate.ephemeral_storage_gb_hour", "us-east-1")]))
    assert [line.item for line in estimate.lines] == ["fargate.vcpu_hour.arm64", "fargate.gb_hour.arm64", "fargate.ephemeral_storage_gb_hour"]
    assert estimate.billed_seconds_per_run == 60
    assert estimate.monthly_cost == cents(expected)


def test_cloud_run_in_a_tier_2_region(book):
    # europe-west3 is tier 2; every 15 minutes in April 2026 (30 days): 2880 runs; 12.34 s bills 12.4 s; 1 vCPU, 512 MiB = 0.5 GiB
    variables = job(cloud_provider="gcp", runtime_type="cloud_run", region="europe-west3", schedule_cron="*/15 * * * *",
                    compute_cpu=1, compute_memory=512, finops_estimate={"expected_runtime_seconds": 12.34})
    estimate = estimate_job(variables, book, month=(2026, 4))
    prices = table("gcp")
    seconds = Decimal(2880) * Decimal("12.4")
    expected = exact(lambda: seconds * prices[("cloud_run.vcpu_second", "tier2")] + seconds * Decimal("0.5") * prices[("cloud_run.gib_second", "tier2")])
    assert estimate.runs_per_month == 2880 and estimate.billed_seconds_per_run == Decimal("12.4")
    assert estimate.monthly_cost == cents(expected)
    assert {line.price.region for line in estimate.lines} == {"tier2"}
    # the free tier: a separate line, valued at tier-1 prices, never subtracted from the job
    lines = {g.item: g for g in free_grant_lines([estimate], book)}
    free = lines["cloud_run.free.vcpu_second"]
    assert free.used == seconds and free.quantity == grants("gcp")["cloud_run.free.vcpu_second"]
    assert Decimal(free.value.numerator) / free.value.denominator == min(seconds, free.quantity) * prices[("cloud_run.vcpu_second", "tier1")]
    assert total([estimate]) == estimate.monthly_cost


def test_container_apps(book):
    # weekdays at 04:00 UTC in March 2026; 100.2 s bills 101 s; 0.5 vCPU, 1 GiB
    variables = job(cloud_provider="azure", runtime_type="container_apps", region="westeurope", schedule_cron="0 4 * * 1-5",
                    cpu_cores=0.5, compute_memory=1024, finops_estimate={"expected_runtime_seconds": 100.2})
    estimate = estimate_job(variables, book, month=(2026, 3))
    prices = table("azure")
    runs = weekdays(2026, 3)
    seconds = Decimal(runs) * 101
    expected = exact(lambda: seconds * Decimal("0.5") * prices[("container_apps.vcpu_second", "westeurope")]
                     + seconds * prices[("container_apps.gib_second", "westeurope")])
    assert estimate.runs_per_month == runs == 22
    assert estimate.monthly_cost == cents(expected)
    assert {g.item for g in free_grant_lines([estimate], book)} == {"container_apps.free.vcpu_second", "container_apps.free.gib_second"}


def test_kubernetes_on_a_stack_configured_node_price(book):
    stack = StackCost.from_config({"dativo-infra:nodePrices": '{"vcpuHour": "0.0467", "gibHour": "0.00613"}'}, "Pulumi.acme-prod.yaml")
    variables = job(cloud_provider="gcp", runtime_type="kubernetes", region="europe-west3", request_cpu="500m", request_memory="1536Mi",
                    max_runtime_seconds=1800, schedule_cron="0 3 * * *")
    estimate = estimate_job(variables, book, month=(2026, 3), stack=stack)
    hours = Decimal(31) * Decimal("0.5")
    expected = exact(lambda: hours * Decimal("0.5") * Decimal("0.0467") + hours * Decimal("1.5") * Decimal("0.00613"))
    assert estimate.monthly_cost == cents(expected)
    assert estimate.duration_is_upper_bound
    assert estimate.lines[0].price.quality == "configured"


def test_kubernetes_without_a_node_price_is_an_error(book):
    with pytest.raises(PriceError, match="nodePrices"):
        estimate_job(job(runtime_type="kubernetes", request_cpu="1", request_memory="1Gi"), book, month=(2026, 3), file="jobs/x.yaml")


def test_unpriced_region_names_the_region_and_prices_flag(book):
    with pytest.raises(PriceError) as caught:
        estimate_job(job(region="eu-west-1"), book, month=(2026, 3), file="jobs/x.yaml")
    problem = caught.value.problems[0]
    assert problem.file == "jobs/x.yaml" and "'eu-west-1'" in problem.message and "--prices" in problem.message


def test_prices_file_overlays_the_tables():
    book = load_prices(str(FIXTURES / "node-prices.yaml"))
    assert book.price("kubernetes.vcpu_hour", "anywhere").price == Decimal("0.05")
    assert book.price("fargate.vcpu_hour.x86_64", "us-east-1").price == table("aws")[("fargate.vcpu_hour.x86_64", "us-east-1")]


@pytest.mark.parametrize("text, message", [
    ((FIXTURES / "float-price.yaml").read_text(), "as a string in quotes"),
    ('cloud: aws\ncurrency: USD\nprices:\n  - {item: a.b, service: s, region: r, unit: u, price: "1,5", source: s, read_on: "2026-01-01", quality: primary}\n',
     "must be an amount as a decimal string"),
    ("cloud: aws\ncurrency: EUR\nprices: []\n", "currency"),
    ("cloud: mars\ncurrency: USD\n", "cloud"),
    ("cloud: aws\ncurrency: USD\nprices:\n  - item: x\n", "item"),
    ("- a\n", "mapping"),
])
def test_bad_price_files(tmp_path, text, message):
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_prices(str(path))
    assert any(message in p.message or message in p.field for p in caught.value.problems), caught.value.problems
    assert all(p.file == str(path) for p in caught.value.problems)


def test_float_price_is_placed_on_its_line(tmp_path):
    with pytest.raises(PriceError) as caught:
        load_prices(str(FIXTURES / "float-price.yaml"))
    assert caught.value.problems[0].line == 8 and caught.value.problems[0].field == "prices[0].price"


def test_average_month_and_upper_bound(book):
    estimate = estimate_job(job(), book)  # daily, 3600 s maximum
    prices = table("aws")
    runs = Decimal(146097) / Decimal(4800)  # 30.436875 exactly
    expected = exact(lambda: runs * 1 * (prices[("fargate.vcpu_hour.x86_64", "us-east-1")] + 2 * prices[("fargate.gb_hour.x86_64", "us-east-1")]))
    assert estimate.monthly_cost == cents(expected)
    record = estimate.as_dict()
    assert record["runs_per_month"] == 30.436875 and record["duration_is_upper_bound"] is True and record["ChargePeriodStart"] is None


def test_unscheduled_job_costs_nothing_and_says_why(book):
    estimate = estimate_job(job(schedule_cron="", region="eu-west-1"), book, month=(2026, 3))
    assert estimate.monthly_cost == 0 and estimate.lines == () and "no schedule" in estimate.notes[0]


def test_storage_and_logs_need_a_price(book):
    variables = job(finops_estimate={"expected_runtime_seconds": 60, "expected_storage_gb_per_run": 2, "expected_log_gb_per_run": 0.1})
    with pytest.raises(PriceError, match="s3.gb_month"):
        estimate_job(variables, book, month=(2026, 3))


def test_budgets(book):
    cheap = estimate_job(job(finops_estimate={"expected_runtime_seconds": 60, "monthly_budget": 100}), book, month=(2026, 3))
    dear = estimate_job(job(job_name="big", finops_estimate={"expected_runtime_seconds": 3600, "monthly_budget": 0.5}), book, month=(2026, 3))
    settings = StackCost.from_config({"dativo-infra:monthlyBudget": "1", "dativo-infra:budgetSeverity": "error"}, "Pulumi.acme-prod.yaml")
    findings = check_budgets([cheap, dear], lambda tenant, environment: settings)
    assert [(f.scope, f.job, f.severity) for f in findings] == [("job", "big", "error"), ("stack", None, "error")]
    assert findings[1].estimate == cheap.monthly_cost + dear.monthly_cost and findings[1].file == "Pulumi.acme-prod.yaml"
    assert check_budgets([cheap], lambda t, e: StackCost()) == []


@pytest.mark.parametrize("config, field", [
    ({"dativo-infra:nodePrices": {"vcpuHour": "x", "gibHour": "1"}}, "dativo-infra:nodePrices.vcpuHour"),
    ({"dativo-infra:nodePrices": "[1]"}, "dativo-infra:nodePrices"),
    ({"dativo-infra:monthlyBudget": "-3"}, "dativo-infra:monthlyBudget"),
    ({"dativo-infra:budgetSeverity": "fatal"}, "dativo-infra:budgetSeverity"),
])
def test_bad_stack_cost_settings(config, field):
    with pytest.raises(ConfigError) as caught:
        StackCost.from_config(config, "Pulumi.acme-prod.yaml")
    assert caught.value.problems[0].field == field


def test_rollups_and_csv(book):
    gcp_tags = {"dativo-cost-center": "fin-1", "dativo-project": "p2"}  # as GCP labels land: key reformatted, value lowercased
    estimates = [estimate_job(job(job_name="a"), book, month=(2026, 3)),
                 estimate_job(job(job_name="b", tenant_id="globex", tags={"dativo:cost-center": "OPS-2"}), book, month=(2026, 3)),
                 estimate_job(job(job_name="c", cloud_provider="gcp", runtime_type="cloud_run", region="us-central1", tags=gcp_tags),
                              book, month=(2026, 3))]
    by_center = rollup(estimates, check_by("dativo:cost-center", estimates))
    assert [(g.value, g.jobs) for g in by_center] == [("FIN-1", 2), ("OPS-2", 1)]
    assert by_center[0].monthly_cost == estimates[0].monthly_cost + estimates[2].monthly_cost
    assert sum(g.monthly_cost for g in by_center) == total(estimates)
    assert [(g.value, g.jobs) for g in rollup(estimates, "tenant")] == [("acme", 2), ("globex", 1)]
    assert [(g.value, g.jobs) for g in rollup(estimates, "project")] == [("p1", 1), ("p2", 1), (None, 1)]
    with pytest.raises(ConfigError, match="did you mean 'dativo:cost-center'"):
        check_by("dativo:cost-centre", estimates)
    with pytest.raises(ConfigError, match="is not a grouping"):
        check_by("cost center", estimates)
    rows = focus_csv(estimates).splitlines()
    assert rows[0].startswith("BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,")
    assert len(rows) == 1 + sum(len(e.lines) for e in estimates)
    assert "2026-03-01T00:00:00Z" in rows[1]


def test_price_schema_is_generated_from_the_loader():
    from dativo_infra.cost.schema import prices_schema
    from dativo_infra.schema import render

    current = (PRICES.parent.parent.parent / "schemas" / "prices.schema.json").read_text()
    assert current == render(prices_schema()), "schemas/prices.schema.json is stale: python -m dativo_infra.cost.schema > schemas/prices.schema.json"


def test_every_shipped_price_says_where_it_came_from(book):
    for price in book.prices.values():
        assert price.source.startswith("https://") and price.read_on and price.quality in ("primary", "secondary", "derived")
        assert price.quality != "derived" or price.note
