"""The fleet machinery, for real: ``dativo-infra plan --all`` runs the real program under the mock
runtime in worker processes. The jobs tree is generated per test from the AWS ECS examples."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from dativo_infra.fleet import StackRef, discover_stacks, run_fleet

from .conftest import JOBS

GLOBEX = (JOBS / "globex" / "postgres_orders_aws.yaml").read_text(encoding="utf-8")
ACME = (JOBS / "acme" / "stripe_customers_aws.yaml").read_text(encoding="utf-8")
BROKEN_LINE = next(i for i, line in enumerate(GLOBEX.splitlines(), 1) if line.strip() == 'cpu: "0.5"')  # made invalid below


def orders_job(tenant: str) -> str:
    return GLOBEX.replace("tenant_id: globex", f"tenant_id: {tenant}").replace("globex-staging", f"{tenant}-staging")


def make_tree(root: Path, tenants=("globex", "hooli", "umbrella"), broken: str | None = None) -> Path:
    """acme (prod) plus an orders job per tenant (staging); ``broken``: a tenant whose job file is invalid."""
    jobs = root / "jobs"
    shutil.copytree(JOBS / "assets", jobs / "assets")
    (jobs / "acme").mkdir(parents=True)
    (jobs / "acme" / "stripe_customers_aws.yaml").write_text(ACME, encoding="utf-8")
    for tenant in tenants:
        (jobs / tenant).mkdir()
        (jobs / tenant / "postgres_orders_aws.yaml").write_text(orders_job(tenant), encoding="utf-8")
    if broken:
        (jobs / broken).mkdir()
        text = orders_job(broken).replace('cpu: "0.5"', 'cpu: "0.3"')
        assert text.splitlines()[BROKEN_LINE - 1].strip() == 'cpu: "0.3"'
        (jobs / broken / "postgres_orders_aws.yaml").write_text(text, encoding="utf-8")
    return jobs


def max_overlap(records) -> int:
    """Most stacks running at one instant, from the start/finish times each worker wrote."""
    points = sorted([(r["started_at"], 1) for r in records] + [(r["finished_at"], -1) for r in records], key=lambda p: (p[0], p[1]))
    running = peak = 0
    for _, step in points:
        running += step
        peak = max(peak, running)
    return peak


def test_discovery_finds_tenants_environments_and_unattributable_files(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex",), broken="initech")
    (jobs / "shared").mkdir()
    shutil.copy(JOBS / "shared" / "stripe_customers_shared.yaml", jobs / "shared")
    (jobs / "acme" / "no_infra.yaml").write_text("tenant_id: acme\nenvironment: dev\nsource_connector: stripe\n")
    (jobs / "globex" / "garbled.yaml").write_text("tenant_id: [unclosed\n")
    found = discover_stacks(str(jobs))
    # shared files add their environment (prod) to every tenant; the invalid initech file still names its tenant
    assert [s.name for s in found.stacks] == ["acme-prod", "globex-prod", "globex-staging", "initech-prod", "initech-staging"]
    assert [Path(p.file).name for p in found.problems] == ["garbled.yaml"]  # no tenant can be read from it
    assert [s.name for s in discover_stacks(str(jobs), tenant="globex").stacks] == ["globex-prod", "globex-staging"]
    assert [s.name for s in discover_stacks(str(jobs), environment="staging").stacks] == ["globex-staging", "initech-staging"]


def test_plan_all_runs_every_stack_in_at_most_n_processes(tmp_path, cli):
    jobs = make_tree(tmp_path)
    code, out, err = cli("plan", "--all", "--parallel", 2, "--jobs-dir", jobs, "--json")
    assert code == 0, err
    data = json.loads(out)
    records = data["stacks"]
    assert data["ok"] is True and data["operation"] == "plan" and data["parallel"] == 2 and data["problems"] == []
    assert [r["stack"] for r in records] == ["acme-prod", "globex-staging", "hooli-staging", "umbrella-staging"]
    for r in records:
        assert set(r) >= {"tenant", "environment", "ok", "seconds", "resources", "errors"}
        assert r["ok"] is True and r["errors"] == [] and r["seconds"] > 0
    counts = {r["stack"]: r["resources"] for r in records}
    assert counts["acme-prod"] > 0 and counts["globex-staging"] == counts["hooli-staging"] == counts["umbrella-staging"] > 0
    assert records[0]["jobs"] == ["stripe-customers-aws"]
    # bounded: never more than 2 stacks at once, in at most 2 worker processes (none in this one)
    assert max_overlap(records) <= 2
    assert len({r["pid"] for r in records}) <= 2
    assert os.getpid() not in {r["pid"] for r in records}
    # a progress line per stack as it starts and as it finishes
    for r in records:
        assert re.search(rf"\[plan \d/4\] {r['stack']}: started \(pid {r['pid']}\)", err)
        assert re.search(rf"\[plan\] {r['stack']}: ok, {r['resources']} resources in 1 jobs", err)


def test_parallel_one_runs_the_stacks_one_after_another(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli"))
    found = discover_stacks(str(jobs))
    started, finished = [], []
    result = run_fleet("plan", found.stacks, jobs_dir=str(jobs), parallel=1,
                       on_start=lambda stack, pid: started.append(stack), on_finish=finished.append)
    records = [r.as_dict() for r in result.records]
    assert result.ok and len(records) == 3 and max_overlap(records) == 1
    assert len({r["pid"] for r in records}) == 1
    assert all(a["finished_at"] <= b["started_at"] for a, b in zip(records, records[1:], strict=False))
    assert sorted(started) == found.stacks and sorted(r.stack for r in finished) == [s.name for s in found.stacks]


def test_a_broken_tenant_is_reported_with_its_errors_and_the_others_still_run(tmp_path, cli):
    jobs = make_tree(tmp_path, broken="initech")
    broken_file = str(jobs / "initech" / "postgres_orders_aws.yaml")
    code, out, err = cli("plan", "--all", "--parallel", 2, "--jobs-dir", jobs)
    assert code == 1
    # the summary: every stack, its result, then the errors of the failed ones, then the totals
    table = out.strip().split("\n\n")[0].splitlines()
    assert table[0].split() == ["STACK", "RESULT", "SECONDS", "DETAIL"]
    assert [line.split()[0] for line in table[1:]] == ["acme-prod", "globex-staging", "hooli-staging", "initech-staging", "umbrella-staging"]
    assert re.search(r"^initech-staging\s+FAILED\s+[\d.]+\s+1 error$", out, re.M)
    assert re.search(rf"{re.escape(broken_file)}:{BROKEN_LINE}:\d+: infrastructure.compute.cpu: 0.3 vCPU", out)
    assert re.search(r"^5 stacks: 4 ok, 1 failed \([\d.]+ s, parallel 2\)$", out, re.M)
    assert "Traceback" not in out + err

    code, out, _ = cli("plan", "--all", "--parallel", 2, "--jobs-dir", jobs, "--json")
    records = {r["stack"]: r for r in json.loads(out)["stacks"]}
    assert code == 1 and json.loads(out)["ok"] is False
    (error,) = records["initech-staging"]["errors"]
    assert error["file"] == broken_file and error["line"] == BROKEN_LINE and error["field"] == "infrastructure.compute.cpu"
    # every other stack ran in its own worker and planned: another tenant's broken file is not its problem
    for name, record in records.items():
        assert record["pid"] and record["started_at"] <= record["finished_at"]
        if name != "initech-staging":
            assert record["ok"] and not record["errors"], record


def test_plan_all_output_dir_holds_the_single_stack_plan_of_each_stack(tmp_path, cli):
    jobs = make_tree(tmp_path, tenants=("globex",))
    out_dir = tmp_path / "plans"
    code, _, err = cli("plan", "--all", "--jobs-dir", jobs, "--output-dir", out_dir)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["acme-prod.json", "globex-staging.json"]
    code, single, _ = cli("plan", "--tenant", "globex", "--environment", "staging", "--jobs-dir", jobs, "--json")
    single = json.loads(single)
    written = json.loads((out_dir / "globex-staging.json").read_text())
    assert code == 0 and written == {k: v for k, v in single.items() if k != "notice"}
    assert set(single) == {"tenant", "environment", "resources", "outputs", "notice"}
    assert {"job", "type", "name", "inputs"} <= set(single["resources"][0])


def test_selection_errors_are_usage_errors(tmp_path, cli):
    jobs = make_tree(tmp_path, tenants=())
    assert cli("plan", "--jobs-dir", jobs)[0] == 2
    assert cli("plan", "--tenant", "acme", "--jobs-dir", jobs)[0] == 2
    code, _, err = cli("plan", "--all", "--tenant", "nobody", "--jobs-dir", jobs)
    assert code == 2 and "no job with an infrastructure block found for tenant nobody" in err
    with pytest.raises(ValueError):
        run_fleet("apply", [StackRef("acme", "prod")])
    with pytest.raises(ValueError):
        run_fleet("plan", [StackRef("acme", "prod")], parallel=0)


def test_a_worker_that_dies_fails_only_its_stack(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli"))
    found = discover_stacks(str(jobs))
    victim = found.stacks[0]

    def kill_first(stack, pid):
        if stack == victim:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would

    result = run_fleet("plan", found.stacks, jobs_dir=str(jobs), parallel=1, on_start=kill_first)
    records = {r.stack: r for r in result.records}
    assert not result.ok and [r.stack for r in result.failed] == [victim.name]
    assert "worker process running this stack died" in records[victim.name].errors[0]["message"]
    assert all(r.ok and r.resources for name, r in records.items() if name != victim.name)


def test_a_worker_that_dies_takes_only_its_own_stack_while_another_worker_carries_on(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli", "umbrella"))
    found = discover_stacks(str(jobs))
    victim = found.stacks[0]

    def kill_victim(stack, pid):
        if stack == victim:
            os.kill(pid, signal.SIGKILL)

    result = run_fleet("plan", found.stacks, jobs_dir=str(jobs), parallel=2, on_start=kill_victim)
    records = {r.stack: r for r in result.records}
    assert [r.stack for r in result.failed] == [victim.name]
    assert "worker process running this stack died" in records[victim.name].errors[0]["message"]
    survivors = [r.as_dict() for name, r in records.items() if name != victim.name]
    assert all(r["ok"] and r["resources"] for r in survivors) and max_overlap(survivors) <= 2
    assert not multiprocessing.active_children()


def test_workers_are_long_lived_and_none_outlives_the_run(tmp_path, cli):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli", "umbrella", "initech", "soylent"))
    code, out, err = cli("plan", "--all", "--parallel", 2, "--jobs-dir", jobs, "--json")
    records = json.loads(out)["stacks"]
    assert code == 0, err
    # six stacks, two workers: each worker plans several stacks, one after another
    by_pid: dict[int, list] = {}
    for r in records:
        by_pid.setdefault(r["pid"], []).append(r)
    assert len(records) == 6 and len(by_pid) <= 2 and max(len(rs) for rs in by_pid.values()) >= 3
    for rs in by_pid.values():
        rs.sort(key=lambda r: r["started_at"])
        assert all(a["finished_at"] <= b["started_at"] for a, b in zip(rs, rs[1:], strict=False))
    assert not multiprocessing.active_children()
    # workers started ahead of a discovery that finds nothing are ended too
    assert cli("plan", "--all", "--parallel", 2, "--tenant", "nobody", "--jobs-dir", jobs)[0] == 2
    assert not multiprocessing.active_children()


def test_each_stack_reads_only_the_files_that_can_be_its_own_and_plans_as_from_the_whole_folder(tmp_path):
    from dativo_infra.plan import StackError, plan_stack

    from .plans import stack_settings

    jobs = make_tree(tmp_path, tenants=("globex", "hooli"), broken="initech")
    (jobs / "shared").mkdir()
    shutil.copy(JOBS / "shared" / "stripe_customers_shared.yaml", jobs / "shared")
    (jobs / "acme" / "no_infra.yaml").write_text("tenant_id: acme\nenvironment: dev\nsource_connector: stripe\n")
    (jobs / "globex" / "garbled.yaml").write_text("tenant_id: [unclosed\n")  # no tenant can be read: every stack's problem
    found = {s.name: s for s in discover_stacks(str(jobs)).stacks}
    relative = {name: [str(Path(f).relative_to(jobs)) for f in s.files] for name, s in found.items()}
    assert relative["globex-staging"] == ["globex/garbled.yaml", "globex/postgres_orders_aws.yaml"]
    assert relative["acme-prod"] == ["acme/stripe_customers_aws.yaml", "globex/garbled.yaml", "shared/stripe_customers_shared.yaml"]

    def outcome(settings, job_files=None):
        try:
            return plan_stack(settings, job_files).as_dict()
        except StackError as exc:
            return [p.as_dict() for p in exc.problems]

    for stack in found.values():  # the same plan, or the same problems, as reading the whole folder
        whole = outcome(stack_settings(stack.tenant, stack.environment, str(jobs)))
        assert outcome(stack_settings(stack.tenant, stack.environment, str(jobs)), stack.files) == whole


def test_plan_output_dir_is_checked_before_any_plan_runs(tmp_path, cli):
    (tmp_path / "afile").write_text("")
    code, out, err = cli("plan", "--all", "--jobs-dir", JOBS, "--output-dir", tmp_path / "afile" / "plans", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False and report["errors"][0]["message"] == "cannot write plans here: Not a directory"
    code, out, err = cli("plan", "--tenant", "acme", "--environment", "prod", "--jobs-dir", JOBS, "--output-dir", tmp_path / "plans")
    assert code == 2 and "--output-dir goes with --all" in err
