"""The estimate in the plan output: each job's monthly cost, the same as dativo-infra cost gives for the stack."""
from __future__ import annotations

import json
import re
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


def test_plan_table_shows_each_jobs_estimate(cli):
    code, out, err = cli("plan", *STACK)
    assert code == 0, err
    _, estimated, _ = cli("cost", *STACK, "--json")
    costs = {j["job"]: j for j in json.loads(estimated)["jobs"]}
    blocks = out.split("\njob ")[1:]
    assert len(blocks) == len(costs) and all("  estimated cost: " in b for b in blocks)
    for block in blocks:
        job = costs[block.split(":", 1)[0]]
        bound = ", an upper bound: max_runtime_seconds" if job["duration_is_upper_bound"] else ""
        runs = job["runs_per_month"] if isinstance(job["runs_per_month"], int) else f"{job['runs_per_month']:.2f}"
        assert f"  estimated cost: {job['monthly_cost']:.2f} USD a month ({runs} runs of {job['seconds_per_run']} s{bound})" in block
    assert f"estimated cost: {json.loads(estimated)['total']:.2f} USD a month for {len(costs)} jobs" in out


def test_a_job_without_a_price_is_shown_as_such_and_the_plan_still_succeeds(cli, tmp_path):
    import shutil

    shutil.copytree(ROOT / "jobs", tmp_path / "jobs")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    stack = (ROOT / "Pulumi.acme-prod.yaml").read_text()
    (tmp_path / "Pulumi.acme-prod.yaml").write_text("".join(line for line in stack.splitlines(keepends=True) if "nodePrices" not in line))
    code, out, err = cli("plan", "--tenant", "acme", "--environment", "prod", "--project-dir", tmp_path)
    assert code == 0, err
    kubernetes = next(b for b in out.split("\njob ")[1:] if b.startswith("hubspot-contacts-kubernetes:"))
    assert "estimated cost: not available (see below)" in kubernetes
    # placed on the job file's infrastructure block (the region comes from the stack)
    assert re.search(r"  not estimated: \S*hubspot_contacts_kubernetes\.yaml:[0-9]+:[0-9]+: infrastructure\.region: no price for kubernetes\.vcpu_hour", out)


def test_plan_cost_options_go_with_one_stack(cli):
    assert cli("plan", "--all", "--cost", "--project-dir", ROOT)[0] == 2
