"""Plan benchmarks: dativo-infra's offline plan against the bare Pulumi SDK under the same mocks.

The floor is a program with no dativo logic that registers the very same
resources (same provider SDK classes, names, inputs and parents) under the
same mock runtime: what remains is the cost of loading jobs, merging tags,
computing variables and the stack transformation.
"""
from __future__ import annotations

import contextvars
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import generate
from benchmarks.run import Line, median_pair

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    snake = _CAMEL.sub("_", name).lower()
    # the SDKs rename inputs that clash with their own parameters (azure-native's resourceName → resource_name_)
    return snake + "_" if snake in ("resource_name", "opts") else snake


def bare_program(recorded: list[dict[str, Any]]):
    """A Pulumi program that registers exactly ``recorded`` (from a plan) and nothing else."""
    import pulumi

    from dativo_infra.plan import sdk_class

    def program() -> None:
        parents: dict[str, Any] = {}
        for r in recorded:
            if not r["custom"]:
                parents[r["name"]] = pulumi.ComponentResource(r["type"], r["name"], None, None)
        for r in recorded:
            if r["custom"]:
                opts = pulumi.ResourceOptions(parent=parents.get(r["job"]), protect=r["protect"], retain_on_delete=r["retain_on_delete"])
                sdk_class(r["type"])(r["name"], opts=opts, **{_snake(k): v for k, v in r["inputs"].items()})

    return program


def _run_under_mocks(program, stack: str) -> float:
    import pulumi
    from pulumi.runtime.settings import ROOT
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from dativo_infra.plan import PlanMocks, RecordingMonitor

    def run() -> float:
        ROOT.set(None)
        mocks = PlanMocks()
        pulumi.runtime.set_mocks(mocks, project="dativo-infra", stack=stack, preview=False, monitor=RecordingMonitor(mocks))
        start = time.perf_counter()
        _sync_await(run_pulumi_func(program))
        return time.perf_counter() - start

    return contextvars.copy_context().run(run)


def bench_plan(runs: int, work: Path) -> list[Line]:
    from dativo_infra.components import COMPONENTS
    from dativo_infra.plan import plan_stack
    from dativo_infra.program import StackSettings

    root = work / "plan-tenant"
    runtimes = tuple(r for r in ("ecs", "cloud_run", "container_apps", "kubernetes") if r in COMPONENTS)
    generate(str(root), 1, 20, runtimes=runtimes)
    settings = StackSettings("tenant000", "prod", jobs_dir=str(root), regions={"aws": "us-east-1"})  # as Pulumi.yaml's aws:region
    plan = plan_stack(settings)  # warm: imports and caches are not what is measured
    recorded = [{"job": r.job, "type": r.type, "name": r.name, "custom": r.custom, "protect": r.protect,
                 "retain_on_delete": r.retain_on_delete, "inputs": r.inputs} for r in plan.resources]
    bare = bare_program(recorded)
    _run_under_mocks(bare, "tenant000-prod")
    resources = sum(1 for r in recorded if r["custom"])
    ours, floor = median_pair(lambda: plan_stack(settings), lambda: _run_under_mocks(bare, "tenant000-prod"), runs * 2)
    return [Line(f"offline plan, 1 tenant × 20 jobs ({resources} resources; {', '.join(runtimes)})", ours, floor, "s",
                 "≤ 1.15× bare SDK", ours / floor <= 1.15, f"{ours / resources * 1000:.2f} ms/resource")]


def bench_fleet(runs: int, work: Path) -> list[Line]:
    """`plan --all` over 50 tenants, --parallel 1 vs 2 (worker processes, as the CLI runs them).

    Two tenant sizes, both reported: with 4 jobs a tenant the fixed start-up of
    each worker (loading Pulumi and the provider SDKs) dominates and bounds the
    speed-up (Amdahl); with 10 jobs a tenant the parallel part is larger.
    """
    from dativo_infra.components import COMPONENTS

    runtimes = tuple(r for r in ("ecs", "cloud_run", "container_apps", "kubernetes") if r in COMPONENTS)
    cli = str(Path(sys.executable).parent / "dativo-infra")
    lines = []
    for jobs_per_tenant in (4, 10):
        root = work / f"fleet-50x{jobs_per_tenant}"
        generate(str(root), 50, jobs_per_tenant, runtimes=runtimes)
        records: list[dict] = []
        others: list[float] = []

        def run(parallel: int, root=root, records=records, others=others):
            def go() -> None:
                before = _cpu_by_process()
                # a session of its own: its template and workers (not its children once forked) are told from other work
                proc = subprocess.Popen([cli, "plan", "--all", "--jobs-dir", str(root), "--parallel", str(parallel), "--json"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
                out, _ = proc.communicate()
                others.append(_others_cpu(before, _cpu_by_process(), proc.pid))
                if proc.returncode != 0:
                    raise subprocess.CalledProcessError(proc.returncode, proc.args)
                if parallel == 1:
                    records[:] = json.loads(out)["stacks"]
            return go

        # once untimed: the first plan after installing compiles the SDKs into the loader's cache (sdk_loader), once per machine
        run(1)()
        others.clear()
        two, one = median_pair(run(2), run(1), max(5, runs))
        speedup = one / two
        busy = f"; other processes used {statistics.median(others):.2f} CPU s per run (median), up to {max(others):.2f}"
        # what bounds the speed-up: each worker's first stack also loads Pulumi and the provider SDKs, which no
        # second worker can shorten; the later stacks are the part that runs in parallel
        ordered = sorted(records, key=lambda r: r["started_at"])
        first, later = ordered[0]["seconds"], statistics.median(r["seconds"] for r in ordered[1:])
        lines.append(Line(f"plan --all, 50 tenants × {jobs_per_tenant} jobs: --parallel 2 vs 1", two, one, "s", "≥ 1.8× faster",
                          speedup >= 1.8, f"speed-up {speedup:.2f}×; a worker's first stack {first:.2f} s, later ones {later * 1000:.0f} ms{busy}"))
    return lines


def _cpu_by_process() -> dict[int, tuple[int, float]]:
    """pid → (session, CPU seconds of it and of its reaped children), for every process (Linux; empty elsewhere)."""
    import os

    found: dict[int, tuple[int, float]] = {}
    if not os.path.isdir("/proc"):
        return found
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        found[int(name)] = (int(fields[3]), sum(int(x) for x in fields[11:15]) / tick)  # session; utime stime cutime cstime
    return found


def _others_cpu(before: dict[int, tuple[int, float]], after: dict[int, tuple[int, float]], session: int) -> float:
    """CPU seconds other processes (not the run's session, not this benchmark) used between the two readings.

    A fleet's speed-up is a wall-clock ratio on two cores: a run during which
    others used a second or more of CPU measured the machine's load, not the fleet.
    """
    import os

    return sum(cpu - before.get(pid, (0, 0.0))[1] for pid, (sid, cpu) in after.items() if sid != session and pid != os.getpid())


LARGE_TENANT_JOBS = (50, 200, 500)

# one tenant's plan in a fresh process, as `dativo-infra plan` runs it (default GC): the plan alone is timed (the
# imports are not: a fleet worker has them already); VmHWM, not ru_maxrss (see benchmarks.run.bench_memory)
_LARGE_TENANT = """
import json, sys, time
sys.path.insert(0, {root!r})
from dativo_infra.components import COMPONENTS, preload
from dativo_infra.plan import gc_paused, plan_stack
from dativo_infra.program import StackSettings
preload(COMPONENTS)

def hwm():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])

loaded = hwm()
start, cpu = time.perf_counter(), time.process_time()
with gc_paused():  # as the CLI, fleet workers and Dagster plan
    plan = plan_stack(StackSettings("tenant000", "prod", jobs_dir={jobs!r}, regions={{"aws": "us-east-1"}}))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
size = len(json.dumps(plan.as_dict()))  # the inputs a checkpoint would hold (it adds outputs): what Pulumi rewrites per step
print(json.dumps({{"seconds": seconds, "cpu": cpu, "resources": sum(1 for r in plan.resources if r.custom), "peak_kib": hwm(),
                  "loaded_kib": loaded, "plan_bytes": size}}))
"""


def bench_large_tenant(runs: int, work: Path) -> list[Line]:
    """One tenant with 50, 200 and 500 jobs: plan time and peak memory, and how both grow (10× the jobs)."""
    from benchmarks.run import ROOT

    lines, figures = [], {}
    for jobs in LARGE_TENANT_JOBS:
        root = work / f"tenant-{jobs}"
        generate(str(root), 1, jobs)
        results = []
        for _ in range(max(1, runs // 2) if jobs < 500 else 1):  # the 500-job plan takes tens of seconds
            code = _LARGE_TENANT.format(root=str(ROOT), jobs=str(root))
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=str(ROOT)).stdout
            results.append(json.loads(out.splitlines()[-1]))
        result = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
        figures[jobs] = result
        lines.append(Line(f"offline plan, 1 tenant × {jobs} jobs ({result['resources']:,} resources)", result["seconds"], None, "s",
                          "reported", None, f"{result['seconds'] / result['resources'] * 1000:.2f} ms/resource (CPU {result['cpu']:.2f} s); peak memory "
                          f"{result['peak_kib'] / 1024:.0f} MiB ({result['loaded_kib'] / 1024:.0f} MiB once the SDKs are loaded); "
                          f"plan JSON {result['plan_bytes'] / 2**20:.1f} MiB"))
    small, large = figures[LARGE_TENANT_JOBS[0]], figures[LARGE_TENANT_JOBS[-1]]
    scale = LARGE_TENANT_JOBS[-1] / LARGE_TENANT_JOBS[0]
    growth = large["seconds"] / small["seconds"]
    plan_memory = (large["peak_kib"] - large["loaded_kib"]) / max(1, small["peak_kib"] - small["loaded_kib"])
    lines.append(Line(f"growth 1 tenant × {LARGE_TENANT_JOBS[0]} → {LARGE_TENANT_JOBS[-1]} jobs", growth, None, "×",
                      f"≤ {scale * 1.2:g}× (linear)", growth <= scale * 1.2,
                      f"time per resource {large['seconds'] / large['resources'] * 1000:.1f} vs "
                      f"{small['seconds'] / small['resources'] * 1000:.1f} ms; CPU time {large['cpu'] / small['cpu']:.1f}×; "
                      f"the plan's own memory {plan_memory:.1f}×"))
    return lines


def _fleet_available() -> bool:
    from click.testing import CliRunner

    from dativo_infra.cli import cli

    result = CliRunner().invoke(cli, ["plan", "--help"])
    return "--all" in result.output


BENCHES = [bench_plan] + ([bench_fleet] if _fleet_available() else []) + [bench_large_tenant]
