"""How fleet workers start: forked from a template process that has loaded Pulumi and the provider SDKs.

The fleets run in a fresh interpreter (a subprocess): forking needs a process with
no other thread, and this test session may hold the Pulumi SDK's executor threads
from plans run in-process by other tests.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dativo_infra.fleet import discover_stacks

from .test_fleet import make_tree

ROOT = Path(__file__).resolve().parent.parent

RUN = textwrap.dedent("""
    import json, os, signal, sys
    from dativo_infra.fleet import Workers, discover_stacks, run_fleet

    jobs, parallel, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    found = discover_stacks(jobs)
    victim = found.stacks[0]

    def on_start(stack, pid):
        if action == "kill-worker" and stack == victim:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would

    if action == "impatient":  # the template is still importing when the first worker is wanted
        import dativo_infra.fleet
        dativo_infra.fleet.TEMPLATE_TIMEOUT = 0.0
    with Workers(parallel, "plan") as workers:
        if action == "kill-template":
            workers.template.process.kill()  # before it has forked any worker
            workers.template.process.join()
        result = run_fleet("plan", found.stacks, jobs_dir=jobs, parallel=parallel, on_start=on_start, workers=workers)
        template_left = workers.template is not None
    print(json.dumps({"start_method": result.start_method, "template_left": template_left,
                      "stacks": [r.as_dict() for r in result.records]}))
""")


def run(jobs: Path, parallel: int, action: str = "none", **env: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUN, str(jobs), str(parallel), action], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def outcome(records: list[dict]) -> dict:
    return {r["stack"]: (r["ok"], r["resources"], r["jobs"], r["errors"]) for r in records}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_forked_workers_plan_what_spawned_workers_plan_and_none_outlives_the_run(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli", "umbrella"), broken="initech")
    forked = run(jobs, 2)
    spawned = run(jobs, 2, DATIVO_FLEET_START="spawn")
    assert forked["start_method"] == "fork" and spawned["start_method"] == "spawn"
    assert outcome(forked["stacks"]) == outcome(spawned["stacks"])
    assert [s["ok"] for s in forked["stacks"]].count(False) == 1  # initech's invalid file, and only that stack
    assert not forked["template_left"]
    pids = {r["pid"] for r in forked["stacks"]}
    assert len(pids) <= 2 and all(gone(pid) for pid in pids)


def test_a_killed_forked_worker_fails_only_its_own_stack(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli", "umbrella"))
    result = run(jobs, 2, "kill-worker")
    assert result["start_method"] == "fork"
    records = {r["stack"]: r for r in result["stacks"]}
    victim = sorted(records)[0]
    assert [name for name, r in records.items() if not r["ok"]] == [victim]
    assert "worker process running this stack died" in records[victim]["errors"][0]["message"]
    assert all(r["ok"] and r["resources"] for name, r in records.items() if name != victim)


def test_a_dead_template_falls_back_to_spawned_workers(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli"))
    result = run(jobs, 2, "kill-template")
    assert result["start_method"] == "spawn"
    assert all(r["ok"] and r["resources"] for r in result["stacks"])


def test_a_template_that_does_not_answer_in_time_is_ended_and_workers_are_spawned(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex", "hooli"))
    result = run(jobs, 2, "impatient")
    assert result["start_method"] == "spawn" and not result["template_left"]
    assert all(r["ok"] and r["resources"] for r in result["stacks"])


PRELOAD = textwrap.dedent("""
    import json, sys
    from dativo_infra.components import preload
    from dativo_infra.fleet import discover_stacks
    from dativo_infra.plan import plan_stack
    from dativo_infra.stack import Flags, Project

    jobs = sys.argv[1]
    loaded = preload(["ecs", "cloud_run", "container_apps", "kubernetes"])
    before = {m for m in sys.modules if m.split(".")[0].startswith("pulumi_")}
    project = Project(".", Flags(jobs_dir=jobs))
    stacks = discover_stacks(jobs, project=project).stacks
    assert {r for s in stacks for r in s.runtimes} == {"ecs", "cloud_run", "container_apps", "kubernetes"}
    for stack in stacks:  # the example stacks: every runtime, on every cloud
        assert plan_stack(project.context(stack.tenant, stack.environment)).resources, stack
    after = {m for m in sys.modules if m.split(".")[0].startswith("pulumi_")}
    print(json.dumps({"loaded": loaded, "missed": sorted(after - before)}))
""")


@pytest.mark.parametrize("loader", ["as shipped", "sdk_loader"])
def test_preloading_a_runtimes_components_loads_every_sdk_module_their_stacks_use(loader):
    """Else a forked worker still imports SDK modules on its first stack (slower, never wrong): a drift check, both ways the SDKs load."""
    code = ("from dativo_infra.sdk_loader import install\nassert install()\n" if loader == "sdk_loader" else "") + PRELOAD
    env = {k: v for k, v in os.environ.items() if k != "DATIVO_SDK_LOADER"}
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "jobs")], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {"pulumi_aws.iam", "pulumi_gcp.cloudrunv2", "pulumi_azure_native.app", "pulumi_kubernetes.batch.v1"} <= set(result["loaded"])
    assert result["missed"] == []


def test_discovery_tells_the_runtimes_each_stack_names(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex",))
    (jobs / "hooli").mkdir()
    text = (jobs / "globex" / "postgres_orders_aws.yaml").read_text(encoding="utf-8").replace("globex", "hooli")
    assert "type: dagster" in text  # on AWS: ECS runs it
    (jobs / "hooli" / "orders.yaml").write_text(text.replace("type: dagster", "type: ${RUNTIME}"), encoding="utf-8")
    runtimes = {s.name: s.runtimes for s in discover_stacks(str(jobs)).stacks}
    assert runtimes == {"acme-prod": ("ecs",), "globex-staging": ("ecs",), "hooli-staging": None}  # None: not known before validation
