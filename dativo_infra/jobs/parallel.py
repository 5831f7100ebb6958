"""A big job tree on every core: load the files, and act on each kept job, in worker processes.

Phase 1: each worker reads, builds and ``prepare``\\ s its share of the files
and sends back only light :class:`JobRef`\\ s. The parent then does what needs
every file at once (:func:`loader.finish`: shared ``${TENANT_ID}`` files,
duplicate job names, the scope), exactly as a run in one process does.
Phase 2: each worker ``apply``\\ s what it prepared for the jobs that were kept,
and sends back the results. The Job objects never cross a process boundary.

Workers are forked (Linux), so they start in milliseconds with everything
imported. Where forking is unsafe or impossible (threads running, another
OS) or the tree is small, the same work runs in this process instead.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, cast

from .assets import AssetCache
from .files import discover
from .loader import Job, LoadResult, Scope, collect, load_file, load_files, paused_gc, scoped_variables, unreadable_results

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# multiprocessing is imported only when a run forks: `validate FILE` should not pay ~6 ms for it

# below this many files per worker, forking and messaging cost more than a second core saves (benchmarks/NOTES.md)
MIN_FILES_PER_WORKER = 100
CPU_QUOTA_FILE = "/sys/fs/cgroup/cpu.max"  # cgroup v2: "max 100000", or "200000 100000" for two CPUs
CHUNK = 64  # files per message: small enough to balance the workers, large enough that messaging stays cheap


@dataclass(frozen=True)
class JobRef:
    """What the parent needs of a job built in a worker: the fields :func:`loader.finish` reads, and where it lives."""

    path: str
    name: str
    tenant: str
    environment: str
    shared: bool
    worker: int
    key: int


Prepare = Callable[[Job], Any]
Apply = Callable[[Any], Any]


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity, capped by a cgroup v2 CPU quota (a container's ``--cpus``)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
    try:
        quota, period = open(CPU_QUOTA_FILE, encoding="ascii").read().split()
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return cpus


def can_fork() -> bool:
    """Forking copies only the calling thread: with other threads alive, a lock they hold would never be released.

    A daemonic process (a ``multiprocessing.Pool`` worker) may not have children at all.
    """
    import multiprocessing

    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1 and not multiprocessing.current_process().daemon)


def choose_workers(requested: Optional[int], files: int) -> int:
    """``requested`` processes (``None``: one per usable CPU, as the tree's size warrants), or 1 when forking is not possible."""
    if requested is None:
        requested = min(usable_cpus(), files // MIN_FILES_PER_WORKER)
    workers = max(1, min(requested, files))
    return workers if workers > 1 and can_fork() else 1


def load_and_apply(
    paths: Iterable[str],
    prepare: Prepare,
    apply: Apply,
    *,
    workers: Optional[int] = None,
    tenant: Optional[str] = None,
    environment: Optional[str] = None,
    variables: Optional[Mapping[str, str]] = None,
    assets_dir: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    scope: Optional[Scope] = None,
) -> tuple[LoadResult, list[Any], int]:
    """Load the job files under ``paths`` and return ``apply(prepare(job))`` for each kept job, in ``jobs`` order.

    ``prepare`` runs on every built job (its result stays in the process that
    built the job); ``apply`` only on the jobs the whole tree keeps, and its
    results must be picklable. Returns the load result (its jobs are
    :class:`Job` or :class:`JobRef`), the results, and the number of processes used.
    """
    files, unreadable = discover(paths)
    count = choose_workers(workers, len(files))
    variables = scoped_variables(dict(variables or {}), tenant)
    with paused_gc():
        if count == 1:
            result, outcomes, count = _in_process(files, prepare, apply, tenant, environment, variables, assets_dir, environ, scope)
        else:
            result, outcomes, count = _in_workers(files, prepare, apply, count, tenant, environment, variables, assets_dir, environ, scope)
    result.files.extend(unreadable_results(unreadable))  # after the jobs: outcomes follow result.jobs' order
    return result, outcomes, count


def _in_process(files, prepare, apply, tenant, environment, variables, assets_dir, environ, scope):
    result = load_files(files, AssetCache(assets_dir), tenant, environment, variables, environ, scope)
    return result, [apply(prepare(job)) for job in result.jobs], 1


class _Stop(BaseException):
    """The parent stopped this worker (it failed, or was interrupted)."""


_interruptible = False  # in a worker: True while unwinding is safe and useful (a write removes its temporary file)


def _on_sigterm(signum, frame) -> None:
    if _interruptible:
        raise _Stop
    os._exit(1)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    """Have Linux send this worker SIGTERM when its parent dies, even by SIGKILL: no worker outlives a killed export.

    Without it an orphaned worker would go on building and writing until it next talked to its parent.
    SIGTERM unwinds the worker (a write in progress removes its temporary file). The check after the
    request covers a parent that died before it was made.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the closed pipe still stops the worker at its next message
        pass
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)


def _work(conn: Connection, inherited: list[Connection], worker: int, files: list[str], prepare: Prepare, apply: Apply,
          tenant, environment, variables, assets_dir, environ, scope=None) -> None:
    """One worker: phase 1 a range of ``files`` at a time until ``None``, then phase 2 for all it prepared but the dropped keys.

    It never returns: it ends with ``os._exit``, so no interpreter teardown and no traceback from multiprocessing.
    """
    global _interruptible
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the workers itself
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent()
    gc.disable()  # short-lived and acyclic: nothing for the cyclic GC to find
    try:
        _interruptible = True
        for other in inherited:
            other.close()
        assets = AssetCache(assets_dir)
        prepared: dict[int, Any] = {}
        while (chunk := conn.recv()) is not None:
            replies = []
            for index in range(*chunk):
                loaded = load_file(files[index], assets, tenant, environment, variables, environ, scope)
                if loaded is not None:
                    result, pending = loaded
                    refs = []
                    for job in result.jobs:
                        key = len(prepared)
                        prepared[key] = prepare(job)
                        refs.append(JobRef(job.path, job.name, job.tenant, job.environment, job.shared, worker, key))
                    result.jobs = refs  # type: ignore[assignment]
                    loaded = (result, pending)
                replies.append((index, loaded))
            conn.send(("loaded", replies))
        dropped = conn.recv()  # the parent's verdict: duplicate names and jobs out of scope are not applied
        conn.send(("applied", [(key, apply(value)) for key, value in prepared.items() if key not in dropped]))
    except (_Stop, EOFError, BrokenPipeError):
        pass  # the parent stopped us or went away: it knows already
    except BaseException:  # noqa: BLE001 - a bug: the parent reports it; a worker must never die silently
        _interruptible = False
        try:
            import traceback

            conn.send(("error", traceback.format_exc()))
        except BaseException:  # noqa: BLE001 - the parent is gone, or stopping us
            pass
    finally:
        os._exit(0)


class WorkerError(RuntimeError):
    """A worker process failed: a bug or a killed process, not a problem in a job file."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail  # the worker's traceback, for a bug report


def _in_workers(files, prepare, apply, count, tenant, environment, variables, assets_dir, environ, scope):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    conns: list[Connection] = []
    procs: list[Any] = []  # multiprocessing.Process of the fork context
    finished = False
    try:
        try:
            for worker in range(count):
                parent_end, child_end = context.Pipe()
                inherited = [*conns, parent_end]  # the child must not hold the parent's ends, or it never sees the parent go away
                proc = context.Process(target=_work, args=(child_end, inherited, worker, files, prepare, apply, tenant, environment, variables, assets_dir, environ, scope),
                                       daemon=True)
                conns.append(parent_end)
                proc.start()
                procs.append(proc)
                child_end.close()
        except OSError as exc:  # out of file descriptors or processes: say so, and how to do without
            raise WorkerError(f"cannot start worker processes: {exc.strerror or exc}; run again with --parallel 1 to do the work in one process") from None
        loaded = _phase_one(len(files), conns)
        built = [ref for one in loaded.values() if one is not None for ref in one[0].jobs]  # before finish() drops any
        # in discovery order, as one process would have them: finish() keeps the first of two same-named jobs
        result = collect((loaded.get(index) for index in range(len(files))), AssetCache(assets_dir), tenant, environment, variables, environ, scope)

        kept = {(job.worker, job.key) for job in result.jobs if isinstance(job, JobRef)}
        dropped: list[set[int]] = [set() for _ in conns]
        for ref in built:
            if (ref.worker, ref.key) not in kept:
                dropped[ref.worker].add(ref.key)
        for conn, keys in zip(conns, dropped, strict=True):
            _send(conn, keys)
        here = {id(job): apply(prepare(job)) for job in result.jobs if not isinstance(job, JobRef)}  # shared files, built here
        applied: dict[tuple[int, int], Any] = {}
        for worker, conn in enumerate(conns):
            for key, value in _receive(conn, "applied"):
                applied[(worker, key)] = value
        outcomes = [applied[(job.worker, job.key)] if isinstance(job, JobRef) else here[id(job)] for job in result.jobs]
        finished = True
        return result, outcomes, count
    finally:
        for conn in conns:
            conn.close()
        if not finished:  # interrupted or failed: stop the workers now; a write in progress removes its temporary file
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
        for proc in procs:
            proc.join(timeout=5 if finished else 1)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _phase_one(count: int, conns: list[Connection]) -> dict[int, Any]:
    """Hand out ranges of file indexes to whichever worker is free; two in flight each, so none waits for the parent.

    Messages to a worker are a pair of numbers: they never fill a pipe while the worker fills its own with a reply.
    """
    from multiprocessing.connection import wait

    size = max(1, min(CHUNK, count // (4 * len(conns))))  # a small tree: smaller chunks, so every worker gets a share
    chunks = [(i, min(i + size, count)) for i in range(0, count, size)][::-1]  # popped from the end: in order
    in_flight = {id(conn): 0 for conn in conns}
    loaded: dict[int, Any] = {}

    def feed(conn: Connection, limit: int = 2) -> None:
        while chunks and in_flight[id(conn)] < limit:
            _send(conn, chunks.pop())
            in_flight[id(conn)] += 1
        if not chunks and in_flight[id(conn)] == 0:
            _send(conn, None)

    for limit in (1, 2):  # one chunk each first: a tree of a few files still reaches every worker
        for conn in conns:
            feed(conn, limit)
    busy = [conn for conn in conns if in_flight[id(conn)]]
    while busy:
        for conn in cast("list[Connection]", wait(busy)):  # wait() returns those of the given connections that are ready
            for index, value in _receive(conn, "loaded"):
                loaded[index] = value
            in_flight[id(conn)] -= 1
            feed(conn)
            if not in_flight[id(conn)]:
                busy.remove(conn)
    return loaded


_GONE = "a worker process ended without an answer (killed, or out of memory); run again with --parallel 1 to do the work in one process"


def _send(conn: Connection, message: Any) -> None:
    try:
        conn.send(message)
    except OSError:  # the worker is gone: its pipe is broken, but it may have said why before it went
        pass
    else:
        return
    try:
        while conn.poll():  # answers the parent had not read yet, then maybe the error
            kind, value = conn.recv()
            if kind == "error":
                raise _failed(value)
    except (EOFError, OSError):
        pass
    raise WorkerError(_GONE)


def _failed(trace: str) -> WorkerError:
    return WorkerError(f"a worker process failed: {trace.strip().splitlines()[-1]} (please report this with the command you ran)", detail=trace)


def _receive(conn: Connection, expected: str) -> Any:
    try:
        kind, value = conn.recv()
    except (EOFError, OSError):
        raise WorkerError(_GONE) from None
    if kind == "error":
        raise _failed(value)
    if kind != expected:
        raise WorkerError(f"a worker process answered {kind!r} where {expected!r} was expected")
    return value

