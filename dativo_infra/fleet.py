"""Run one operation over many tenant stacks: bounded, in separate processes, failures isolated.

The Pulumi SDK keeps process-global state (the mock runtime of ``plan``, the
runtime settings of an inline program) and ``Stack.up`` blocks, so every
stack runs in a worker *process* (``spawn`` context), at most ``parallel`` at
a time. A stack that fails — bad job file, program error, Pulumi error, even
a worker that dies — is reported with its errors; the others carry on::

    from dativo_infra.fleet import discover_stacks, run_fleet

    found = discover_stacks("jobs")
    result = run_fleet("plan", found.stacks, jobs_dir="jobs", parallel=2,
                       on_start=lambda s: print("start", s.name),
                       on_finish=lambda r: print(r.stack, "ok" if r.ok else r.errors))
    result.ok, [r.as_dict() for r in result.records]

Operations: ``plan`` (offline, :func:`dativo_infra.plan.plan_stack`) and
``preview``, ``up``, ``refresh``, ``destroy`` (:mod:`dativo_infra.automation`,
with a :class:`~dativo_infra.automation.StackOptions`). This module imports
neither Pulumi nor the provider SDKs; the workers do.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import time
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from .errors import ConfigError, DativoError, Problem
from .jobs import discover
from .jobs.interpolation import make_lookup, resolve
from .jobs.loader import parse_file

__all__ = ["OPERATIONS", "Discovery", "FleetResult", "StackRecord", "StackRef", "discover_stacks", "run_fleet"]

OPERATIONS = ("plan", "preview", "up", "refresh", "destroy")
LOGS_DIR = ".pulumi-workspaces"


@dataclass(frozen=True, order=True)
class StackRef:
    tenant: str
    environment: str

    @property
    def name(self) -> str:
        return f"{self.tenant}-{self.environment}"


@dataclass
class Discovery:
    """Stacks found in a jobs folder, and the files that could not be attributed to any tenant."""

    stacks: list[StackRef]
    problems: list[Problem] = field(default_factory=list)


def discover_stacks(jobs_dir: str, *, variables: Optional[Mapping[str, str]] = None,
                    tenant: Optional[str] = None, environment: Optional[str] = None) -> Discovery:
    """Every tenant/environment with an ``infrastructure`` job under ``jobs_dir``.

    Tenants come from the non-shared job files; each tenant also gets the
    environments of the shared ``${TENANT_ID}`` files. Files are only parsed
    here, not validated, so a tenant whose job file is invalid is still found
    (and its stack reports the file's problems). A file that cannot be parsed,
    or whose tenant or environment cannot be read, is a problem of the discovery.
    """
    lookup = make_lookup(dict(variables or {}))
    own: set[StackRef] = set()
    shared_envs: set[str] = set()
    problems: list[Problem] = []
    for path in discover([jobs_dir]):
        try:
            parsed = parse_file(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if "infrastructure" not in parsed.data:
            continue  # a valid Dativo job with nothing to provision
        raw = {k: parsed.data.get(k) for k in ("tenant_id", "environment")}
        if parsed.is_shared:
            raw.pop("tenant_id")
        values, unset = resolve(raw, lookup)
        if unset or not all(isinstance(v, str) and v for v in values.values()):
            problems.append(Problem(path, "cannot tell which stack this job belongs to: tenant_id and environment must be "
                                          "plain strings" + (f" (unset: {', '.join(sorted({u.name for u in unset}))})" if unset else "")))
            continue
        if parsed.is_shared:
            shared_envs.add(values["environment"])
        else:
            own.add(StackRef(values["tenant_id"], values["environment"]))
    tenants = {s.tenant for s in own}
    stacks = own | {StackRef(t, e) for t in tenants for e in shared_envs}
    stacks = {s for s in stacks if (tenant is None or s.tenant == tenant) and (environment is None or s.environment == environment)}
    return Discovery(sorted(stacks), problems)


@dataclass
class StackRecord:
    """The outcome of one stack. ``resources`` (plan) or ``changes`` (Pulumi operations) say what it did."""

    tenant: str
    environment: str
    operation: str
    ok: bool
    seconds: float = 0.0
    resources: Optional[int] = None
    jobs: list[str] = field(default_factory=list)
    changes: Optional[dict] = None
    summary: str = ""
    errors: list[dict] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: Optional[str] = None
    pid: Optional[int] = None
    started_at: Optional[float] = None   # wall clock (time.time()) in the worker
    finished_at: Optional[float] = None

    @property
    def stack(self) -> str:
        return f"{self.tenant}-{self.environment}"

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "environment": self.environment, "stack": self.stack, "operation": self.operation,
                "ok": self.ok, "seconds": round(self.seconds, 3), "resources": self.resources, "jobs": self.jobs,
                "changes": self.changes, "summary": self.summary, "errors": self.errors, "kept": self.kept,
                "notes": self.notes, "log": self.log, "pid": self.pid,
                "started_at": self.started_at, "finished_at": self.finished_at}


@dataclass
class FleetResult:
    operation: str
    parallel: int
    records: list[StackRecord]
    problems: list[Problem] = field(default_factory=list)  # files attributed to no stack
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.records)

    @property
    def failed(self) -> list[StackRecord]:
        return [r for r in self.records if not r.ok]

    def as_dict(self) -> dict:
        return {"operation": self.operation, "ok": self.ok, "parallel": self.parallel, "seconds": round(self.seconds, 3),
                "stacks": [r.as_dict() for r in self.records], "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True)
class _Task:
    operation: str
    stack: StackRef
    jobs_dir: str
    assets_dir: Optional[str]
    image: Optional[str]
    variables: tuple  # (key, value) pairs: hashable and picklable
    options: Any  # automation.StackOptions or None
    output_dir: Optional[str]


# -- in the worker process ----------------------------------------------------------------------------------

_events: Any = None


def _init_worker(events) -> None:
    global _events
    _events = events


def _settings(task: _Task):
    from .program import StackSettings

    return StackSettings(task.stack.tenant, task.stack.environment, task.jobs_dir, task.assets_dir, task.image, dict(task.variables))


def _plan(task: _Task, record: StackRecord) -> None:
    import json

    from .plan import plan_stack

    with _event_loop():
        plan = plan_stack(_settings(task))
    record.resources = sum(1 for r in plan.resources if r.custom)
    record.jobs = sorted({r.job for r in plan.resources if r.job})
    record.summary = f"{record.resources} resources in {len(record.jobs)} jobs"
    if task.output_dir:
        path = Path(task.output_dir, f"{task.stack.name}.json")
        path.write_text(json.dumps(plan.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        record.notes.append(f"plan written to {path}")


@contextmanager
def _event_loop():
    """A fresh event loop for one plan, closed after it (a loop left to the interpreter's exit prints noise)."""
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)


def _automation(task: _Task, record: StackRecord) -> None:
    from . import automation

    options = task.options or automation.StackOptions()
    log = automation.workspace_dir(task.stack.name, options) / f"{task.operation}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    record.log = str(log)
    with open(log, "w", encoding="utf-8") as out:
        def on_output(line: str) -> None:
            out.write(line if line.endswith("\n") else line + "\n")
            out.flush()

        result = getattr(automation, task.operation)(_settings(task), options, on_output=on_output)
    record.changes = dict(result.changes)
    record.summary = result.summary
    record.kept = list(result.kept)
    record.notes.extend(result.notes)


def _run_task(task: _Task) -> StackRecord:
    """One stack, in a worker: never raises, every failure becomes the record's errors."""
    record = StackRecord(task.stack.tenant, task.stack.environment, task.operation, ok=False, pid=os.getpid())
    record.started_at = time.time()
    if _events is not None:
        _events.put((task.stack, record.pid, record.started_at))
    clock = time.perf_counter()
    try:
        (_plan if task.operation == "plan" else _automation)(task, record)
        record.ok = True
    except DativoError as exc:  # StackError is not one, but carries .problems the same way
        record.errors = [p.as_dict() for p in exc.problems]
    except Exception as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            record.errors = [p.as_dict() for p in problems]
        else:
            record.errors = [Problem(f"stack {task.stack.name}", f"{type(exc).__name__}: {exc}").as_dict()]
    record.seconds = time.perf_counter() - clock
    record.finished_at = time.time()
    return record


# -- in the parent process ----------------------------------------------------------------------------------

def run_fleet(operation: str, stacks: Iterable[StackRef], *, jobs_dir: str = "jobs", assets_dir: Optional[str] = None,
              image: Optional[str] = None, variables: Optional[Mapping[str, str]] = None, options: Any = None,
              parallel: int = 1, output_dir: Optional[str] = None, problems: Iterable[Problem] = (),
              on_start: Optional[Callable[[StackRef, int], Any]] = None,
              on_finish: Optional[Callable[[StackRecord], Any]] = None) -> FleetResult:
    """Run ``operation`` on every stack, at most ``parallel`` worker processes at once.

    ``on_start(stack, pid)`` is called when a worker begins a stack, ``on_finish(record)``
    when it is done (both in the calling thread). ``problems`` (e.g. a discovery's)
    are carried into the result and make it fail. Records come back in the
    order of ``stacks``.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    if parallel < 1:
        raise ValueError("parallel must be at least 1")
    clock = time.perf_counter()
    stacks = list(stacks)
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    tasks = [_Task(operation, s, jobs_dir, assets_dir, image, tuple(sorted((variables or {}).items())), options, output_dir)
             for s in stacks]
    records: dict[StackRef, StackRecord] = {}
    started: set[StackRef] = set()
    attempts: dict[StackRef, int] = {}
    context = multiprocessing.get_context("spawn")
    events = context.Queue()

    def drain() -> None:
        while True:
            try:
                stack, pid, _ = events.get_nowait()
            except queue_module.Empty:
                return
            if stack not in started:
                started.add(stack)
                if on_start:
                    on_start(stack, pid)

    def finish(record: StackRecord) -> None:
        stack = StackRef(record.tenant, record.environment)
        if stack not in started:  # the start event may trail the result
            started.add(stack)
            if on_start:
                on_start(stack, record.pid or 0)
        records[stack] = record
        if on_finish:
            on_finish(record)

    todo = tasks
    while todo:
        with ProcessPoolExecutor(max_workers=min(parallel, len(todo)), mp_context=context,
                                 initializer=_init_worker, initargs=(events,)) as pool:
            futures = {pool.submit(_run_task, task): task for task in todo}
            todo = []
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    task = futures[future]
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        # a worker died (killed, out of memory): the stack it ran fails, the others are run again
                        attempts[task.stack] = attempts.get(task.stack, 0) + 1
                        if task.stack not in started and attempts[task.stack] < 2:
                            todo.append(task)
                            continue
                        record = StackRecord(task.stack.tenant, task.stack.environment, operation, ok=False, errors=[
                            Problem(f"stack {task.stack.name}", "the worker process running this stack died "
                                                                "(killed or out of memory); nothing is known of its outcome").as_dict()])
                    finish(record)
        drain()
    events.close()
    events.join_thread()
    return FleetResult(operation, parallel, [records[s] for s in stacks], list(problems), time.perf_counter() - clock)
