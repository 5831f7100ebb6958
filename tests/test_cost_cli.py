"""`dativo-infra cost`: the example tree rolled up, the JSON and CSV shapes, budgets, and bad input (exit 2)."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.conftest import ROOT

NODE_PRICES = ROOT / "tests" / "fixtures" / "cost" / "node-prices.yaml"
JOB_KEYS = {"file", "tenant", "environment", "job", "provider", "runtime", "region", "runs_per_month", "seconds_per_run",
            "duration_is_upper_bound", "monthly_cost", "lines"}


def run_json(cli, *args):
    code, out, err = cli("cost", *args, "--project-dir", ROOT, "--json")
    return code, json.loads(out), err


def test_examples_by_cost_center_add_up(cli):
    code, data, _ = run_json(cli, "--all", "--by", "dativo:cost-center", "--month", "2026-03", "--prices", NODE_PRICES)
    assert code == 0 and data["ok"] is True and data["currency"] == "USD" and data["month"] == "2026-03"
    jobs = data["jobs"]
    assert len(jobs) == 11 and all(JOB_KEYS <= set(j) for j in jobs)
    assert all({"item", "quantity", "unit", "unit_price", "cost"} <= set(line) for j in jobs for line in j["lines"])
    job_sum = sum(Decimal(str(j["monthly_cost"])) for j in jobs)
    assert Decimal(str(data["total"])) == job_sum > 0
    assert sum(Decimal(str(g["monthly_cost"])) for g in data["groups"]) == job_sum
    assert {g["key"] for g in data["groups"]} == {"dativo:cost-center"}
    assert {g["value"] for g in data["groups"]} >= {"HR-001", "REVOPS-200", "SALES-001"}  # GCP's hr-001 joins AWS's HR-001
    hr = next(g for g in data["groups"] if g["value"] == "HR-001")
    assert hr["monthly_cost"] == float(sum(Decimal(str(j["monthly_cost"])) for j in jobs if j["job"].startswith("stripe-customers-") and
                                           j["tenant"] == "acme" and j["runtime"] != "ecs" or j["job"] == "stripe-customers-aws"))
    # the FOCUS names ride along in every job record
    assert {"BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "RegionId", "ResourceId", "Tags"} <= set(jobs[0])


def test_one_stack_and_a_file(cli):
    code, data, _ = run_json(cli, "--tenant", "globex", "--environment", "prod", "--month", "2026-02", "--prices", NODE_PRICES)
    assert code == 0 and {j["tenant"] for j in data["jobs"]} == {"globex"} and {j["environment"] for j in data["jobs"]} == {"prod"}
    assert [g["value"] for g in data["groups"]] == ["globex"]  # default grouping: tenant
    code, data, _ = run_json(cli, ROOT / "jobs" / "globex" / "salesforce_accounts_azure.yaml", "--month", "2026-02")
    assert code == 0 and [j["runtime"] for j in data["jobs"]] == ["container_apps"]
    assert data["jobs"][0]["runs_per_month"] == 28
    assert [g["item"] for g in data["free_grants"]] == ["container_apps.free.gib_second", "container_apps.free.vcpu_second"]
    assert all(g["subtracted"] is False for g in data["free_grants"])


def test_table_and_csv(cli):
    code, out, _ = cli("cost", "--all", "--project-dir", ROOT, "--prices", NODE_PRICES, "--by", "cost-center")
    assert code == 0 and "total:" in out and "by dativo:cost-center:" in out and "free grants" in out
    code, out, _ = cli("cost", "--all", "--project-dir", ROOT, "--prices", NODE_PRICES, "--month", "2026-03", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {"BilledCost", "BillingCurrency", "ChargePeriodStart", "ServiceName", "RegionId", "ResourceId", "Tags"} <= set(rows[0])
    code2, out2, _ = cli("cost", "--all", "--project-dir", ROOT, "--prices", NODE_PRICES, "--month", "2026-03", "--csv")
    assert out2 == out
    _, data, _ = run_json(cli, "--all", "--prices", NODE_PRICES, "--month", "2026-03")
    assert abs(sum(Decimal(r["BilledCost"]) for r in rows) - Decimal(str(data["total"]))) < Decimal("0.01") * len(data["jobs"])


def test_kubernetes_needs_node_prices(cli, write, tmp_path):
    write("Pulumi.yaml", "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n")
    path = write("jobs/acme/hubspot.yaml", (ROOT / "jobs" / "acme" / "hubspot_contacts_kubernetes.yaml").read_text())
    code, out, _ = cli("cost", path, "--project-dir", tmp_path, "--assets-dir", ROOT / "jobs" / "assets", "--json")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False
    messages = [e["message"] for e in data["errors"]]
    assert any("kubernetes.vcpu_hour" in m and "--prices" in m and "nodePrices" in m for m in messages)
    # the stack's node prices: the same job is estimated
    write("Pulumi.yaml", "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n"
                         "  dativo-infra:nodePrices:\n    value: {vcpuHour: \"0.04\", gibHour: \"0.005\"}\n")
    code, out, _ = cli("cost", path, "--project-dir", tmp_path, "--assets-dir", ROOT / "jobs" / "assets", "--json", "--month", "2026-03")
    record = json.loads(out)["jobs"][0]
    assert code == 0 and record["lines"][0]["unit_price"] == 0.04 and record["lines"][0]["price_quality"] == "configured"


@pytest.mark.parametrize("args, text", [
    (("--all", "--month", "2026-13"), "is not a month"),
    (("--all", "--month", "March"), "is not a month"),
    (("--all", "--by", "dativo:cost-centre", "--prices", str(NODE_PRICES)), "did you mean 'dativo:cost-center'"),
    (("--all", "--prices", str(ROOT / "tests" / "fixtures" / "cost" / "float-price.yaml")), "as a string in quotes"),
    (("--all", "--prices", "/nonexistent/prices.yaml"), "not found"),
    (("--tenant", "acm", "--environment", "prod"), "unknown tenant"),
])
def test_bad_input_is_exit_2_in_the_json_shape(cli, args, text):
    code, data, _ = run_json(cli, *args)
    assert code == 2 and data["ok"] is False and any(text in e["message"] for e in data["errors"]), data


def test_unpriced_region(cli, write, tmp_path):
    path = write("jobs/acme/stripe_customers_aws.yaml", (ROOT / "jobs" / "acme" / "stripe_customers_aws.yaml").read_text())
    write("Pulumi.yaml", "name: dativo-infra\nruntime: python\nconfig:\n  aws:region:\n    value: ap-south-2\n")
    code, out, _ = cli("cost", path, "--project-dir", tmp_path, "--assets-dir", ROOT / "jobs" / "assets", "--json")
    data = json.loads(out)
    assert code == 2 and any("'ap-south-2'" in e["message"] and "--prices" in e["message"] for e in data["errors"]), data


def test_budget_error_fails_the_run(cli, write, tmp_path):
    write("Pulumi.yaml", "name: dativo-infra\nruntime: python\nconfig:\n  dativo-infra:monthlyBudget: \"1\"\n"
                         "  dativo-infra:budgetSeverity: error\n")
    path = write("jobs/salesforce.yaml", (ROOT / "jobs" / "globex" / "salesforce_accounts_azure.yaml").read_text())
    code, out, _ = cli("cost", path, "--project-dir", tmp_path, "--assets-dir", ROOT / "jobs" / "assets", "--json", "--month", "2026-03")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and data["budgets"][0]["scope"] == "stack" and data["budgets"][0]["severity"] == "error"
    assert data["jobs"] and data["errors"][0]["field"] == "budget"


def test_usage_errors(cli):
    code, _, _ = cli("cost", "--project-dir", ROOT)
    assert code == 2
    code, _, _ = cli("cost", "--all", "--json", "--csv", "--project-dir", ROOT)
    assert code == 2
