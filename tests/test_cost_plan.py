"""The estimate in the plan output: each job's monthly cost, the same as dativo-infra cost gives for the stack."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_PRICES = str(ROOT / "tests" / "fixtures" / "cost" / "node-prices.yaml")
STACK = ("--tenant", "acme", "--environment", "prod", "--project-dir", ROOT)


def test_plan_json_with_cost_carries_the_cost_commands_job_records(cli):
    code, out, err = cli("plan", *STACK, "--json", "--cost", "--prices", NODE_PRICES)
    assert code == 0, err
    planned = json.loads(out)
    code, out, err = cli("cost", *STACK, "--prices", NODE_PRICES, "--json")
    assert code == 0, err
    estimated = json.loads(out)
    assert planned["cost"]["jobs"] == sorted(estimated["jobs"], key=lambda j: j["job"])
    assert planned["cost"]["total"] == estimated["total"] and planned["cost"]["errors"] == []
    assert {j["job"] for j in planned["cost"]["jobs"]} == set(planned["outputs"])  # every planned job has its estimate


def test_plan_json_without_cost_keeps_its_shape(cli):
    code, out, _ = cli("plan", *STACK, "--json")
    assert code == 0 and "cost" not in json.loads(out)


def test_plan_table_shows_each_jobs_estimate_and_why_one_is_missing(cli):
    code, out, err = cli("plan", *STACK)
    assert code == 0, err
    blocks = out.split("\njob ")[1:]
    assert len(blocks) == 6 and all("  estimated cost: " in b for b in blocks)
    aws = next(b for b in blocks if b.startswith("stripe-customers-aws:"))
    assert "  estimated cost: 3.00 USD a month (30.35 runs of 3600 s, an upper bound: max_runtime_seconds)" in aws
    kubernetes = next(b for b in blocks if b.startswith("hubspot-contacts-kubernetes:"))
    assert "estimated cost: not available (see below)" in kubernetes
    assert "hubspot_contacts_kubernetes.yaml: infrastructure.region: no price for kubernetes.vcpu_hour" in out and "  not estimated: " in out


def test_plan_cost_options_go_with_one_stack(cli):
    assert cli("plan", "--all", "--cost", "--project-dir", ROOT)[0] == 2
