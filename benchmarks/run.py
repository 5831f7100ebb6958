"""``make bench``: how fast dativo-infra is, against the floor, as the fleet grows.

Every measurement runs side by side with its floor in one process run, in
alternation, so machine noise cancels; each figure is the median of several
runs. Prints one table with PASS/FAIL per target and writes
benchmarks/results.md with the machine description. This is not a timed
test: nothing fails the build, the table says what holds.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402


@dataclass
class Line:
    name: str
    ours: float
    floor: Optional[float]
    unit: str
    target: str
    ok: Optional[bool]
    detail: str = ""

    def row(self) -> list[str]:
        ratio = f"{self.ours / self.floor:.2f}×" if self.floor else ""
        floor = f"{self.floor:.3f}" if self.floor is not None else ""
        verdict = "" if self.ok is None else ("PASS" if self.ok else "FAIL")
        return [self.name, f"{self.ours:.3f}", floor, ratio, self.unit, self.target, verdict, self.detail]


def median_pair(ours: Callable[[], None], floor: Callable[[], None], runs: int) -> tuple[float, float]:
    """Alternate ours and floor ``runs`` times; return both medians (seconds)."""
    a, b = [], []
    for _ in range(runs):
        for fn, into in ((floor, b), (ours, a)):
            gc.collect()
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def yaml_floor(files: list[str]) -> Callable[[], None]:
    def run() -> None:
        for path in files:
            with open(path, encoding="utf-8") as handle:
                yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    return run


def export_all(root: str, out: str, parallel: Optional[int] = None) -> Callable[[], None]:
    """What `dativo-infra terraform export --all ROOT --output-dir OUT [--parallel N]` does, in-process."""
    from terraform_compat import export_tree

    def run() -> None:
        done = export_tree([root], out, "hcl", parallel=parallel)
        assert done.ok and done.exported, done.problems[:3]
        run.processes = done.workers  # type: ignore[attr-defined]
    return run


def processes(count: int) -> str:
    return f"{count} process" + ("es" if count > 1 else "")


def cpu_seconds(fn: Callable[[], None]) -> float:
    """User + system time of ``fn``, its worker processes included (they are joined before it returns)."""
    import resource

    def total() -> float:
        return sum(getattr(r, f) for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
                   for f in ("ru_utime", "ru_stime"))
    start = total()
    fn()
    return total() - start


def validate_all(root: str) -> Callable[[], None]:
    """What `dativo-infra validate ROOT` does, in-process."""
    from dativo_infra.cli.validate import summarize
    from dativo_infra.jobs.parallel import load_and_apply
    from dativo_infra.resolve import Resolver

    def run() -> None:
        resolver = Resolver()  # as `validate` runs: each job resolved in its stack, storage bound over the tree
        result, _, run.processes = load_and_apply([root], summarize(resolver), lambda s: s, scope=resolver.scope([root]))  # type: ignore[attr-defined]
        assert result.ok
    return run


def bench_export(sizes: list[int], runs: int, work: Path) -> tuple[list[Line], dict[int, float]]:
    lines, per_size = [], {}
    for size in sizes:
        tenants = max(1, size // 100)
        root = work / f"fleet-{size}"
        files = generate(str(root), tenants, size // tenants)
        if size == 1000:  # issue 2's own target: validation alone
            check, floor_fn = validate_all(str(root)), yaml_floor(files)
            ours, floor = median_pair(check, floor_fn, runs)
            cpu = cpu_seconds(check) / cpu_seconds(floor_fn)
            lines.append(Line("validate 1,000 jobs", ours, floor, "s", "≤ 1.5× YAML floor", ours / floor <= 1.5,
                              f"{size / ours:,.0f} jobs/s; {processes(check.processes)}; CPU time {cpu:.2f}× the floor's"))
        out = work / f"tfvars-{size}"
        ours_fn, floor_fn = export_all(str(root), str(out)), yaml_floor(files)
        ours, floor = median_pair(ours_fn, floor_fn, runs if size < 10000 else max(3, runs // 2))
        per_size[size] = ours
        ratio = ours / floor
        cpu = cpu_seconds(ours_fn) / cpu_seconds(floor_fn)
        lines.append(Line(f"validate + export {size:,} jobs", ours, floor, "s", "≤ 1.5× YAML floor", ratio <= 1.5,
                          f"{size / ours:,.0f} jobs/s; {processes(ours_fn.processes)}; CPU time {cpu:.2f}× the floor's"))
        if size == 10000:  # the same work in one process (--parallel 1): what a single core costs
            ours, floor = median_pair(export_all(str(root), str(out), parallel=1), floor_fn, max(3, runs // 2))
            lines.append(Line("validate + export 10,000 jobs, --parallel 1", ours, floor, "s", "reported", None, f"{size / ours:,.0f} jobs/s"))
    return lines, per_size


def bench_startup(runs: int, job_file: str) -> list[Line]:
    cli = str(BIN / "dativo-infra")
    py = sys.executable

    def timed(argv: list[str]) -> Callable[[], None]:
        def run() -> None:
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return run

    floor_cmd = timed([py, "-c", "import yaml, pydantic"])
    lines = []
    for label, argv in (("CLI start-up: --help", [cli, "--help"]), ("CLI start-up: validate 1 file", [cli, "validate", job_file])):
        ours, floor = median_pair(timed(argv), floor_cmd, runs)
        lines.append(Line(label, ours, floor, "s", "≤ 2× import floor", ours / floor <= 2.0))
    return lines


def bench_memory(root: Path) -> Line:
    """Peak RSS of a 10,000-job export, in a fresh process: the parent's, and the largest worker's."""
    code = (
        f"import resource, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from benchmarks.run import export_all\n"
        f"export_all({str(root)!r}, {tempfile.mkdtemp()!r})()\n"
        # VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss across exec, so a child of this (large) process would report our peak
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]\n"
        "print(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    parent_kib, worker_kib = map(int, subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()[-2:])
    return Line("peak memory, 10,000-job export", parent_kib / 1024, None, "MiB", "reported", None,
                f"parent process; largest worker {worker_kib / 1024:.0f} MiB" if worker_kib else "one process")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("pulumi", "pulumi-aws", "pulumi-gcp", "pulumi-azure-native", "pulumi-kubernetes", "pydantic", "PyYAML"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return (f"{platform.platform()}; {cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
            + ", ".join(f"{k} {v}" for k, v in versions.items()))


def render(lines: list[Line]) -> str:
    header = ["measurement", "ours", "floor", "ratio", "unit", "target", "result", "detail"]
    rows = [header] + [line.row() for line in lines]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows)


def markdown(lines: list[Line], notes: str) -> str:
    header = ["measurement", "ours", "floor", "ratio", "unit", "target", "result", "detail"]
    out = ["# Benchmark results", "", f"Machine: {machine()}", "", f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `make bench`", "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(line.row()) + " |" for line in lines]
    return "\n".join(out) + "\n\n" + notes


def main() -> int:
    parser = argparse.ArgumentParser(description="dativo-infra benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs (a smoke run)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not rewrite benchmarks/results.md")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    runs = 3 if args.quick else args.runs
    work = Path(tempfile.mkdtemp(prefix="dativo-bench-"))
    lines: list[Line] = []
    try:
        export_lines, per_size = bench_export(sizes, runs, work)
        lines += export_lines
        if 10000 in per_size:
            growth = per_size[10000] / per_size[1000]
            lines.append(Line("growth 1,000 → 10,000 jobs", growth, None, "×", "≤ 12× (linear)", growth <= 12))
            lines.append(bench_memory(work / "fleet-10000"))
        lines += bench_startup(max(5, runs), str(ROOT / "jobs" / "acme" / "stripe_customers_aws.yaml"))
        for extra in _optional_benches():
            lines += extra(runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = render(lines)
    print(table)
    if not args.no_write:
        notes_file = ROOT / "benchmarks" / "NOTES.md"
        notes = notes_file.read_text() if notes_file.exists() else ""
        (ROOT / "benchmarks" / "results.md").write_text(markdown(lines, notes))
        print("\nwrote benchmarks/results.md")
    return 0


def _optional_benches() -> list[Callable[[int, Path], list[Line]]]:
    """Plan and fleet benchmarks (benchmarks/plan_bench.py), when present, and the cost estimate (benchmarks/cost_bench.py)."""
    from benchmarks import cost_bench

    try:
        from benchmarks import plan_bench
    except ImportError:
        return list(cost_bench.BENCHES)
    # cost first: a plan leaves the SDK's threads running, and a process with threads does not fork workers,
    # so costing after the plans would measure one process where the command uses several
    return list(cost_bench.BENCHES) + list(plan_bench.BENCHES)


if __name__ == "__main__":
    sys.exit(main())
