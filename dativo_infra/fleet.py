"""Run one operation over many tenant stacks: bounded, in separate processes, failures isolated.

The Pulumi SDK keeps process-global state (the mock runtime of ``plan``, the
runtime settings of an inline program) and ``Stack.up`` blocks, so stacks run
in worker *processes*, at most ``parallel`` at a time. A stack that fails — bad
job file, program error, Pulumi error, even a worker that dies — is reported
with its errors; the others carry on::

    from dativo_infra.fleet import discover_stacks, run_fleet

    found = discover_stacks("jobs")
    result = run_fleet("plan", found.stacks, jobs_dir="jobs", parallel=2,
                       on_start=lambda stack, pid: print("start", stack.name, pid),
                       on_finish=lambda r: print(r.stack, "ok" if r.ok else r.errors))
    result.ok, [r.as_dict() for r in result.records]

Workers are long-lived: each takes stack after stack, one at a time, from the
parent, which hands the next stack to whichever worker is free (``--parallel 1``
is one such worker). A worker that dies takes only the stack it was running
with it; a fresh worker carries on with the rest. On Linux, workers are forked
from a *template* process that has already imported Pulumi and the provider
SDKs of the fleet's runtimes (most of a second of imports, paid once instead of
by every worker); elsewhere they are spawned and each imports them on its first
stack (:class:`Workers`).

Operations: ``plan`` (offline, :func:`dativo_infra.plan.plan_stack`) and
``preview``, ``up``, ``refresh``, ``destroy`` (:mod:`dativo_infra.automation`,
with a :class:`~dativo_infra.automation.StackOptions`). This module imports
neither Pulumi nor the provider SDKs; the workers do.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Optional

from .errors import ConfigError, DativoError, Problem

__all__ = ["OPERATIONS", "Discovery", "FleetResult", "StackRecord", "StackRef", "Workers", "discover_stacks", "run_fleet"]

OPERATIONS = ("plan", "preview", "up", "refresh", "destroy")

# seconds the template may take to load Pulumi and the SDKs (about 2 on an idle machine) before workers are spawned instead
TEMPLATE_TIMEOUT = 120.0


@dataclass(frozen=True, order=True)
class StackRef:
    tenant: str
    environment: str
    # the job files of the jobs folder that can be this stack's (known to a discovery): a plan reads only
    # those, not the whole tree again for every stack; None: every file under the jobs folder
    files: Optional[tuple[str, ...]] = field(default=None, compare=False, repr=False)
    # every file's storage in the whole tree: a stack that reads only its own files still binds storage over all of them
    buckets: tuple = field(default=(), compare=False, repr=False)
    # the runtimes its files name (ecs, cloud_run...), a hint of which provider SDKs its workers need; None: not known
    runtimes: Optional[tuple[str, ...]] = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.tenant}-{self.environment}"


@dataclass
class Discovery:
    """Stacks found in a jobs folder, and the files that could not be attributed to any tenant."""

    stacks: list[StackRef]
    problems: list[Problem] = field(default_factory=list)


def discover_stacks(jobs_dir: str, *, variables: Optional[Mapping[str, str]] = None,
                    tenant: Optional[str] = None, environment: Optional[str] = None, project: Any = None) -> Discovery:
    """Every tenant/environment stack of ``jobs_dir`` (and of the project's stack files, given a :class:`~dativo_infra.stack.Project`).

    A stack is run when its tenant has job files of its own there, or when it
    runs shared ``${TENANT_ID}`` files there (``dativo-infra:sharedJobs``); the
    tenants of the project's stack files count for the shared files too.
    Files are only parsed here, not validated, so a tenant whose job file is
    invalid is still found (and its stack reports the file's problems). A file that
    cannot be parsed, or whose tenant or environment cannot be read, is a problem
    of the discovery; so is a folder that cannot be read.
    """
    # imported here: starting workers (:class:`Workers`) must not wait for the job models to load
    from .jobs.files import discover
    from .jobs.interpolation import make_lookup, resolve
    from .jobs.loader import bucket_use_of, job_name, parse_file, plain_scope

    lookup = make_lookup(dict(variables or {}))
    own: set[StackRef] = set()
    shared: dict[str, set[str]] = {}  # environment → names of the shared jobs there
    files, problems = discover([jobs_dir])
    buckets = []
    scopes: list[tuple[str, Optional[str], Optional[str]]] = []  # every file, with the tenant and environment it plainly names
    runtimes: list[Optional[str]] = []  # every file's runtime, as far as it plainly names one ("": none)
    for path in files:
        try:
            parsed = parse_file(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            scopes.append((path, None, None))  # its stack, if any, is for the loader to tell
            runtimes.append("")
            continue
        scopes.append((path, *plain_scope(parsed.data)))
        runtimes.append(_runtime_hint(parsed.data))
        use = bucket_use_of(parsed, dict(variables or {}))
        if use is not None:
            buckets.append(use)
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
            shared.setdefault(values["environment"], set()).add(job_name(path))
        else:
            own.add(StackRef(values["tenant_id"], values["environment"]))
    declared = {StackRef(t, e) for t, e in project.stack_files()} if project is not None else set()
    tenants = {s.tenant for s in own | declared}
    stacks = set(own)  # a declared stack with no job here has nothing to run: it exists (known_stacks) but is not run
    for env, names in shared.items():
        for name in sorted(tenants):
            if project is None or any(project.context(name, env).takes_shared(job) for job in names):
                stacks.add(StackRef(name, env))
    stacks = {s for s in stacks if (tenant is None or s.tenant == tenant) and (environment is None or s.environment == environment)}
    by_tenant: dict[Optional[str], list[int]] = {}
    for index, (_, file_tenant, _) in enumerate(scopes):
        by_tenant.setdefault(file_tenant, []).append(index)
    return Discovery([_with_files(s, scopes, by_tenant, tuple(buckets), runtimes) for s in sorted(stacks)], problems)


def known_stacks(jobs_dir: str, project: Any) -> set[tuple[str, str]]:
    """(tenant, environment) of every stack that exists: its stack file names it, or its tenant has job files there."""
    found = {(s.tenant, s.environment) for s in discover_stacks(jobs_dir, project=project).stacks} if os.path.isdir(jobs_dir) else set()
    return found | set(project.stack_files())


def _runtime_hint(data: Mapping) -> Optional[str]:
    """The runtime a parsed job file plainly names (``""``: no infrastructure; None: cannot tell before validation)."""
    from .jobs.rules import DEFAULT_RUNTIME

    infra = data.get("infrastructure")
    if not isinstance(infra, Mapping):
        return ""
    runtime = infra.get("runtime")
    kind = runtime.get("type") if isinstance(runtime, Mapping) else None
    if kind in ("dagster", "airflow"):  # run on the provider's default container runtime (jobs.rules.effective_runtime)
        provider = infra.get("provider")
        kind = DEFAULT_RUNTIME.get(provider) if isinstance(provider, str) else None
    return kind if isinstance(kind, str) and "${" not in kind else None


def _with_files(stack: StackRef, scopes: list[tuple[str, Optional[str], Optional[str]]],
                by_tenant: dict[Optional[str], list[int]], buckets: tuple = (),
                runtimes: Optional[list[Optional[str]]] = None) -> StackRef:
    """``stack`` with the files that can be its own: all but those whose tenant_id or environment plainly names another.

    The loader leaves those out of a stack too (and never reports their problems
    there), so the stack's jobs and problems are the same as from the whole
    folder; the plan just does not parse every other tenant's files again.
    Files keep the folder's order (the loader's, which decides which of two
    same-named jobs is reported).
    """
    candidates = sorted(by_tenant.get(stack.tenant, []) + by_tenant.get(None, []))
    kept = [i for i in candidates if scopes[i][2] in (None, stack.environment)]
    hints = [runtimes[i] for i in kept] if runtimes is not None else [None]
    known = None if None in hints else tuple(sorted({h for h in hints if h}))
    return StackRef(stack.tenant, stack.environment, tuple(scopes[i][0] for i in kept), buckets, known)


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
    coverage: Optional[dict] = None  # plan --coverage: {taggable, fully_tagged, percent, missing, untaggable}
    warnings: list[str] = field(default_factory=list)  # the tag policy's warnings, rendered
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
                **({"coverage": self.coverage} if self.coverage is not None else {}),
                **({"warnings": self.warnings} if self.warnings else {}),
                "started_at": self.started_at, "finished_at": self.finished_at}


@dataclass
class FleetResult:
    operation: str
    parallel: int
    records: list[StackRecord]
    problems: list[Problem] = field(default_factory=list)  # files attributed to no stack
    seconds: float = 0.0
    start_method: str = "spawn"  # how its workers started: "fork" (from the template) or "spawn" (see Workers)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.records)

    @property
    def failed(self) -> list[StackRecord]:
        return [r for r in self.records if not r.ok]

    def as_dict(self) -> dict:
        # "errors": every problem of the run in the one failure shape of all commands; "stacks" keeps each stack's own
        errors = [p.as_dict() for p in self.problems] + [e for r in self.records for e in r.errors]
        return {"operation": self.operation, "ok": self.ok, "errors": errors, "parallel": self.parallel, "seconds": round(self.seconds, 3),
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
    project_dir: str = "."  # where Pulumi.yaml and the stack files are
    policy: Optional[str] = None  # --policy
    coverage: bool = False  # plan --coverage
    # plan: the stack's context and jobs, resolved by the parent while the template loaded the SDKs (pickled; see _prepare)
    prepared: Optional[bytes] = field(default=None, compare=False, repr=False)


# -- in the worker process ----------------------------------------------------------------------------------

def _worker_main(conn, operation: str) -> None:
    """A worker's life: run the stacks the parent sends, one at a time, until it sends ``None``.

    Messages to the parent: ``("start", stack, pid)`` as a stack begins, ``("done", record)``
    when it ends. The first plan imports Pulumi and the provider SDKs: hundreds of
    modules and about a million objects that live as long as the worker. The cyclic
    garbage collector would scan them again and again while they load (a third of a
    worker's start-up) and then on every full collection (a fifth of a second every few
    stacks), so it is off until the first stack has planned, and what exists then is
    frozen out of its sight (``gc.freeze``); it runs as usual on what each stack creates.
    """
    modules = len(sys.modules)
    warm = False
    projects: dict = {}  # the fleet's project folder, read once per worker (its Pulumi.yaml, its stack files' shared buckets)
    try:
        if operation == "plan":
            from .sdk_loader import install

            install()  # a forked worker has it from the template; a spawned one loads the SDKs after this
            gc.disable()
            if not conn.poll():  # no stack yet (the parent is still reading the jobs folder): load Pulumi meanwhile
                from . import plan  # noqa: F401
        while True:
            try:
                task = conn.recv()
            except EOFError:  # the parent is gone
                break
            if task is None:
                break
            if task.operation == "plan" and not warm:
                gc.disable()
            record = _run_task(task, announce=lambda stack, pid: conn.send(("start", stack, pid)), projects=projects)
            if len(sys.modules) != modules:  # this stack loaded modules (SDKs): they stay until the worker ends
                gc.freeze()
                modules = len(sys.modules)
            gc.enable()
            warm = warm or record.ok
            conn.send(("done", record))
    finally:
        # everything is sent; tearing down the interpreter would only free the SDKs' objects one by one
        # (most of a second, in both the worker and the parent waiting for it)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream must not keep the worker alive
                pass
        os._exit(0)


def _settings(task: _Task, projects: Optional[dict] = None):
    """The stack's context: its stack file under the fleet's flags.

    ``projects``: the projects this process has read, by folder and flags (the
    same for every stack of a fleet), so ``Pulumi.yaml`` is parsed once, not once
    per stack. A fleet's processes live for one run: an edit between runs is seen.
    """
    from .stack import Flags, Project

    key = (task.project_dir, task.image, task.jobs_dir, task.assets_dir, task.variables, task.policy)
    project = (projects or {}).get(key)
    if project is None:
        flags = Flags(image=task.image, jobs_dir=task.jobs_dir, assets_dir=task.assets_dir, variables=dict(task.variables), policy=task.policy)
        project = Project(task.project_dir, flags)
        if projects is not None:
            projects[key] = project
    return project.context(task.stack.tenant, task.stack.environment)


def _prepare(task: _Task, projects: dict) -> Optional[bytes]:
    """The stack's context and its jobs, resolved and pickled for a worker (in the parent); None if they cannot be.

    The jobs are resolved with the context the program will read back from the
    stack config (:func:`~dativo_infra.program.program_context`), which checks it
    is its own before using them. A stack whose files or settings have problems is
    left to the worker, which reports them exactly as it always has.
    """
    import pickle

    from .program import load_stack_jobs, program_context

    try:
        context = _settings(task, projects)
        resolved_with = program_context(context)
        jobs = load_stack_jobs(resolved_with, task.stack.files, task.stack.buckets)
        return pickle.dumps((context, resolved_with, jobs), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - only a head start: the worker does it again and reports what is wrong
        return None


def _plan(task: _Task, record: StackRecord, projects: Optional[dict] = None) -> None:
    import json
    import pickle

    from .plan import fresh_event_loop, gc_paused, plan_stack

    resolved = None
    if task.prepared is not None:
        context, resolved_with, jobs = pickle.loads(task.prepared)
        resolved = (resolved_with, jobs)
    else:
        context = _settings(task, projects)
    with fresh_event_loop(), gc_paused():
        plan = plan_stack(context, task.stack.files, task.stack.buckets, resolved=resolved)
    record.warnings = [w["line"] for w in plan.warnings]
    if task.coverage:
        from .policy import coverage, load_policy

        record.coverage = coverage(plan, load_policy(context.policy) if context.policy else None, scopes=plan.scopes)["coverage"]
    record.resources = sum(1 for r in plan.resources if r.custom)
    record.jobs = sorted({r.job for r in plan.resources if r.job})
    record.summary = f"{record.resources} resources in {len(record.jobs)} jobs"
    if task.output_dir:
        path = Path(task.output_dir, f"{task.stack.name}.json")
        path.write_text(json.dumps(plan.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        record.notes.append(f"plan written to {path}")


def _automation(task: _Task, record: StackRecord, projects: Optional[dict] = None) -> None:
    from . import automation

    options = task.options or automation.StackOptions()
    log = automation.workspace_dir(task.stack.name, options) / f"{task.operation}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    record.log = str(log)
    with open(log, "w", encoding="utf-8") as out:
        def on_output(line: str) -> None:
            out.write(line if line.endswith("\n") else line + "\n")
            out.flush()

        result = getattr(automation, task.operation)(_settings(task, projects), options, on_output=on_output)
    record.changes = dict(result.changes)
    record.summary = result.summary
    record.kept = list(result.kept)
    record.notes.extend(result.notes)


def _run_task(task: _Task, announce: Optional[Callable[[StackRef, int], Any]] = None, projects: Optional[dict] = None) -> StackRecord:
    """One stack, in a worker: never raises, every failure becomes the record's errors."""
    pid = os.getpid()
    record = StackRecord(task.stack.tenant, task.stack.environment, task.operation, ok=False, pid=pid)
    record.started_at = time.time()
    if announce is not None:
        announce(task.stack, pid)
    clock = time.perf_counter()
    try:
        (_plan if task.operation == "plan" else _automation)(task, record, projects)
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


# -- the template: a process that has loaded what workers need, and forks them ---------------------------------

def _template_main(conn, operation: str) -> None:
    """The template's life: load Pulumi, then the SDKs the parent names, then fork a worker per request.

    Messages from the parent: ``("preload", runtimes)`` and ``("fork", None)``, which
    it answers with ``("forked", pid)`` followed by the parent's end of the new
    worker's pipe (``multiprocessing.reduction.send_handle``), or ``("failed", why)``;
    ``None`` or a closed pipe ends it. It never runs a stack itself, so it starts no
    thread and no event loop: forking it is safe, and each worker begins as an
    exact copy, with no SDK left to import. Its workers are not its concern once
    forked: the kernel reaps them (SIGCHLD ignored), the parent watches them through
    their pipe and a pidfd.
    """
    import signal
    import threading

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    gc.disable()  # the imports create about a million objects: no collection should scan them as they load
    try:
        _load_operation(operation)
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the parent is gone
                break
            if message is None:
                break
            kind, value = message
            if kind == "preload":
                from .components import preload

                try:
                    preload(value)
                except Exception:  # noqa: BLE001 - a hint only: a worker imports what it lacks when it needs it
                    pass
                gc.freeze()  # what the workers inherit is never scanned again, nor its pages touched by a collection
            elif threading.active_count() != 1:  # forking with another thread alive could copy a held lock
                conn.send(("failed", "the template process runs threads"))
            else:
                _fork_worker(conn, operation)
    finally:
        os._exit(0)


def _load_operation(operation: str) -> None:
    """What every worker of ``operation`` imports before its first stack."""
    from . import stack  # noqa: F401

    if operation == "plan":
        from .sdk_loader import install

        install()  # plans only, under mocks: the SDKs may load the fast way (not for the Pulumi operations)
        from . import plan  # noqa: F401
    else:
        from . import automation  # noqa: F401


def _fork_worker(conn, operation: str) -> None:
    """Fork one worker; send the parent its pid and its end of the worker's pipe."""
    import signal
    from multiprocessing.reduction import send_handle

    parent_end, child_end = multiprocessing.Pipe()
    for stream in (sys.stdout, sys.stderr):  # else a buffered line would be written by both processes
        stream.flush()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own children (the pulumi CLI) are waited for as usual
            conn.close()
            parent_end.close()
            _worker_main(child_end, operation)
        finally:
            os._exit(1)
    child_end.close()  # the worker holds the only other end: when it dies, the parent's recv() ends with EOFError
    conn.send(("forked", pid))
    send_handle(conn, parent_end.fileno(), os.getppid())
    parent_end.close()


# -- in the parent process ----------------------------------------------------------------------------------

class _Worker:
    """A spawned worker process, the parent's end of its pipe, and the stack it is running (if any)."""

    def __init__(self, context, operation: str) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, operation), name="dativo-fleet-worker")
        self.process.start()
        child.close()  # the worker holds the only other end: when it dies, recv() here ends with EOFError
        self.task: Optional[_Task] = None
        self.started = False

    @property
    def sentinel(self) -> int:
        """Readable once the process has ended."""
        return self.process.sentinel

    def alive(self) -> bool:
        return self.process.is_alive()

    def join(self, timeout: Optional[float] = None) -> None:
        self.process.join(timeout)

    def assign(self, task: _Task) -> None:
        self.task, self.started = task, False
        self.conn.send(task)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to finish (it exits as soon as it reads this), then make sure it has."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.join(timeout)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class _ForkedWorker(_Worker):
    """A worker forked by the template: not this process's child, so it is watched and ended through a pidfd."""

    def __init__(self, pid: int, conn) -> None:  # not super().__init__(): that spawns a process
        self.pid, self.conn = pid, conn
        self.pidfd = os.pidfd_open(pid)  # raises ProcessLookupError if it is already gone
        self.task = None
        self.started = False

    @property
    def sentinel(self) -> int:
        return self.pidfd

    def alive(self) -> bool:
        return not wait([self.pidfd], 0)

    def join(self, timeout: Optional[float] = None) -> None:
        wait([self.pidfd], timeout)

    def kill(self) -> None:
        import signal

        if self.pidfd < 0:
            return
        if self.alive():
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            self.join()
        os.close(self.pidfd)
        self.pidfd = -1
        self.conn.close()


class _Template:
    """The parent's end of the template process (:func:`_template_main`)."""

    def __init__(self, operation: str) -> None:
        # what the discovery here needs anyway (the job models, pydantic): imported once, before the fork, not twice
        from .jobs import loader  # noqa: F401

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        # forked now, while this process has no worker pipes open that it could inherit
        self.process = context.Process(target=_template_main, args=(child, operation), name="dativo-fleet-template")
        self.process.start()
        child.close()
        self.preloaded = False
        self.asked = False  # a fork was asked for and not yet answered

    def preload(self, runtimes: Optional[Iterable[str]]) -> None:
        """Have the template load the SDKs of ``runtimes`` (None: of every runtime) before it forks a worker."""
        from .components import COMPONENTS

        if not self.preloaded:
            self.preloaded = True
            try:
                self.conn.send(("preload", tuple(sorted(COMPONENTS if runtimes is None else runtimes))))
            except (OSError, ValueError):  # it has died: the next fork() fails and workers are spawned instead
                pass

    def ask(self) -> None:
        """Ask for a worker, answered once the template has loaded everything (:meth:`fork` takes it)."""
        self.preload(None)
        if not self.asked:
            self.conn.send(("fork", None))
            self.asked = True

    def loading(self) -> bool:
        """Whether the worker asked for is not ready yet (the template is still importing)."""
        return self.asked and not self.conn.poll(0)

    def fork(self) -> _ForkedWorker:
        """A new worker (waits for the template to have loaded everything). Raises OSError or EOFError if it cannot."""
        from multiprocessing.connection import Connection
        from multiprocessing.reduction import recv_handle

        self.ask()
        self.asked = False
        if not self.conn.poll(TEMPLATE_TIMEOUT):  # its imports hang: never let the fleet hang with them
            raise OSError(f"the template process did not answer within {TEMPLATE_TIMEOUT} s")
        kind, value = self.conn.recv()
        if kind != "forked":
            raise OSError(value)
        conn = Connection(recv_handle(self.conn))
        try:
            return _ForkedWorker(value, conn)
        except OSError:  # ended before it could be watched
            conn.close()
            raise

    def close(self, wait: float = 5.0) -> None:
        """Ask it to end (it does once its imports are done), waiting at most ``wait`` seconds before killing it."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _can_use_template() -> bool:
    """Forking needs Linux, no other thread in this process, not a daemonic process; watching a worker needs pidfds."""
    from .jobs.parallel import can_fork

    return can_fork() and hasattr(os, "pidfd_open") and os.environ.get("DATIVO_FLEET_START", "") != "spawn"


class Workers:
    """Where :func:`run_fleet` gets its worker processes, set up ahead of the stacks they will run.

    On Linux, when this process runs no other thread, a *template* process is
    forked at once: it imports Pulumi (while the caller reads the jobs folder),
    then the provider SDKs that the fleet's runtimes use, and forks each worker
    from itself, so every worker starts with them loaded, once for all workers.
    Elsewhere (or with ``DATIVO_FLEET_START=spawn``) workers are spawned, at most
    one per CPU ahead, and each imports what it needs on its first stack.
    ``start_method`` says which (``"fork"`` or ``"spawn"``). Everything is ended
    on leaving the ``with`` block::

        with Workers(parallel, "plan") as workers:
            found = discover_stacks("jobs")
            result = run_fleet("plan", found.stacks, parallel=parallel, workers=workers)
    """

    def __init__(self, parallel: int, operation: str) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
        self.operation = operation
        self.context = multiprocessing.get_context("spawn")
        self.template: Optional[_Template] = _Template(operation) if parallel > 0 and _can_use_template() else None
        self.start_method = "fork" if self.template is not None else "spawn"
        ahead = 0 if self.template is not None else max(0, min(parallel, os.cpu_count() or 1))
        self.idle: list[_Worker] = [_Worker(self.context, operation) for _ in range(ahead)]

    def preload(self, stacks: Iterable[StackRef]) -> None:
        """Tell the template which runtimes the coming stacks use (all of them if any stack's are not known)."""
        if self.template is not None:
            runtimes = [s.runtimes for s in stacks]
            self.template.preload(None if any(r is None for r in runtimes) else {x for r in runtimes if r for x in r})

    def prepare(self, tasks: list[_Task]) -> list[_Task]:
        """``tasks``, as many as possible prepared (:func:`_prepare`) in this process while the template loads the SDKs.

        Resolving a stack's jobs needs no SDK, and without this the other core idles
        while the template imports them. It stops as soon as the first worker is
        ready, so it never delays one; stacks left unprepared are resolved by their worker.
        """
        if self.template is None or self.operation != "plan":
            return tasks
        try:
            self.template.ask()
        except (OSError, ValueError):  # the template died: new() falls back to spawning
            return tasks
        projects: dict = {}
        done = []
        for task in tasks:
            if not self.template.loading():
                break
            done.append(replace(task, prepared=_prepare(task, projects)))
        return done + tasks[len(done):]

    def take(self) -> Optional[_Worker]:
        return self.idle.pop(0) if self.idle else None

    def new(self) -> _Worker:
        """A worker for the next stack: one started ahead, else forked from the template, else spawned."""
        worker = self.take()
        if worker is not None:
            return worker
        if self.template is not None:
            try:
                return self.template.fork()
            except (OSError, EOFError):  # the template died, hangs or cannot fork: spawn from now on
                self.template.close(wait=0)
                self.template, self.start_method = None, "spawn"
        return _Worker(self.context, self.operation)

    def close(self) -> None:
        while self.idle:  # never given a stack: nothing of theirs to wait for
            self.idle.pop().kill()
        if self.template is not None:
            self.template.close()
            self.template = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run_fleet(operation: str, stacks: Iterable[StackRef], *, jobs_dir: str = "jobs", assets_dir: Optional[str] = None,
              image: Optional[str] = None, variables: Optional[Mapping[str, str]] = None, options: Any = None,
              parallel: int = 1, output_dir: Optional[str] = None, problems: Iterable[Problem] = (), project_dir: str = ".",
              policy: Optional[str] = None, coverage: bool = False,
              on_start: Optional[Callable[[StackRef, int], Any]] = None,
              on_finish: Optional[Callable[[StackRecord], Any]] = None,
              workers: Optional[Workers] = None) -> FleetResult:
    """Run ``operation`` on every stack, in at most ``parallel`` worker processes at once.

    Each worker runs one stack at a time and is handed the next one when it is
    done, so at most ``parallel`` stacks run at once. ``on_start(stack, pid)`` is
    called when a worker begins a stack, ``on_finish(record)`` when it is done
    (both in the calling thread). ``problems`` (e.g. a discovery's) are carried
    into the result and make it fail. Records come back in the order of ``stacks``.
    ``workers``: processes started ahead (:class:`Workers`) for this operation.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    if parallel < 1:
        raise ValueError("parallel must be at least 1")
    clock = time.perf_counter()
    stacks = list(stacks)
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    todo = deque(_Task(operation, s, jobs_dir, assets_dir, image, tuple(sorted((variables or {}).items())), options, output_dir, project_dir,
                       policy, coverage) for s in stacks)
    records: dict[StackRef, StackRecord] = {}
    attempts: dict[StackRef, int] = {}
    if workers is not None and workers.operation != operation:
        raise ValueError(f"these workers were started for {workers.operation}, not {operation}")
    # no workers given: set up for as many as this fleet can keep busy (none started for no stack)
    source = workers if workers is not None else Workers(min(parallel, len(stacks)), operation)
    source.preload(stacks)
    if parallel > 1:  # a second core is allowed: use it while the template loads (--parallel 1 keeps to one at a time)
        todo = deque(source.prepare(list(todo)))
    running: list[_Worker] = []  # each with a stack (or just handed one)

    def started(worker: _Worker, pid: int) -> None:
        if not worker.started:
            worker.started = True
            if on_start:
                assert worker.task is not None  # a worker starts only once it is handed a stack
                on_start(worker.task.stack, pid)

    def finish(worker: _Worker, record: StackRecord) -> None:
        worker.task = None
        records[StackRef(record.tenant, record.environment)] = record
        if on_finish:
            on_finish(record)

    def died(worker: _Worker) -> None:
        """The worker ended without finishing its stack (killed, out of memory)."""
        task = worker.task
        assert task is not None  # only workers holding a stack are watched
        running.remove(worker)
        worker.kill()  # it has ended: this only waits for that and closes its pipe
        attempts[task.stack] = attempts.get(task.stack, 0) + 1
        if not worker.started and attempts[task.stack] < 2:
            todo.appendleft(task)  # it never began this stack: a fresh worker runs it
            return
        finish(worker, StackRecord(task.stack.tenant, task.stack.environment, operation, ok=False, errors=[
            Problem(f"stack {task.stack.name}", "the worker process running this stack died "
                                                "(killed or out of memory); nothing is known of its outcome").as_dict()]))

    def assign(worker: _Worker) -> None:
        try:
            worker.assign(todo.popleft())
        except (OSError, ValueError):  # it died between two stacks
            died(worker)

    try:
        while todo or running:
            for worker in list(running):
                if worker.task is None and todo:
                    assign(worker)
            while todo and len(running) < parallel:
                running.append(source.new())
                assign(running[-1])
            idle = [w for w in running if w.task is None]
            if idle and not todo:  # nothing left for them
                for worker in idle:
                    running.remove(worker)
                    worker.stop()
                continue
            ready = set(wait([w.conn for w in running] + [w.sentinel for w in running]))
            for worker in list(running):
                if worker.conn not in ready and worker.sentinel not in ready:
                    continue
                try:
                    while worker.task is not None and worker.conn.poll():
                        message = worker.conn.recv()
                        if message[0] == "start":
                            started(worker, message[2])
                        else:
                            record = message[1]
                            started(worker, record.pid or 0)  # the start message always comes first; this is a guard
                            finish(worker, record)
                except (EOFError, OSError):
                    died(worker)
                    continue
                if worker.task is not None and not worker.alive() and not worker.conn.poll():
                    died(worker)
    finally:
        for worker in running:  # normally none are left; after an exception (Ctrl-C) none must outlive us
            worker.kill()
        source.close()  # the template, and workers started ahead for stacks there turned out not to be
    return FleetResult(operation, parallel, [records[s] for s in stacks], list(problems), time.perf_counter() - clock,
                       source.start_method)
