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
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional

from .assets import AssetCache
from .loader import Job, LoadResult, collect, discover, load_file, load_files, paused_gc, scoped_variables

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# multiprocessing is imported only when a run forks: `validate FILE` should not pay ~6 ms for it

# below this many files per worker, forking and messaging cost more than a second core saves (benchmarks/NOTES.md)
MIN_FILES_PER_WORKER = 100
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
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Forking copies only the calling thread: with other threads alive, a lock they hold would never be released."""
    import multiprocessing

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


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
) -> tuple[LoadResult, list[Any], int]:
    """Load the job files under ``paths`` and return ``apply(prepare(job))`` for each kept job, in ``jobs`` order.

    ``prepare`` runs on every built job (its result stays in the process that
    built the job); ``apply`` only on the jobs the whole tree keeps, and its
    results must be picklable. Returns the load result (its jobs are
    :class:`Job` or :class:`JobRef`), the results, and the number of processes used.
    """
    files = discover(paths)
    count = choose_workers(workers, len(files))
    variables = scoped_variables(dict(variables or {}), tenant)
    with paused_gc():
        if count == 1:
            return _in_process(files, prepare, apply, tenant, environment, variables, assets_dir, environ)
        return _in_workers(files, prepare, apply, count, tenant, environment, variables, assets_dir, environ)


def _in_process(files, prepare, apply, tenant, environment, variables, assets_dir, environ):
    result = load_files(files, AssetCache(assets_dir), tenant, environment, variables, environ)
    return result, [apply(prepare(job)) for job in result.jobs], 1


def _work(conn: Connection, inherited: list[Connection], worker: int, prepare: Prepare, apply: Apply, tenant, environment, variables, assets_dir, environ) -> None:
    """One worker: phase 1 chunk by chunk until ``None``, then phase 2 for the keys it is sent."""
    gc.disable()  # short-lived and acyclic: nothing for the cyclic GC to find
    for other in inherited:
        other.close()
    try:
        assets = AssetCache(assets_dir)
        prepared: dict[int, Any] = {}
        while (chunk := conn.recv()) is not None:
            replies = []
            for index, path in chunk:
                loaded = load_file(path, assets, tenant, environment, variables, environ)
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
        conn.send(("applied", [(key, apply(prepared[key])) for key in conn.recv()]))
    except BaseException:  # noqa: BLE001 - the parent reports it; a worker must never die silently
        import traceback

        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        conn.close()


class WorkerError(RuntimeError):
    """A worker process failed: a bug or a killed process, not a problem in a job file."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail  # the worker's traceback, for a bug report


def _in_workers(files, prepare, apply, count, tenant, environment, variables, assets_dir, environ):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    conns, procs = [], []
    try:
        for worker in range(count):
            parent_end, child_end = context.Pipe()
            inherited = [*conns, parent_end]  # the child must not hold the parent's ends, or it never sees the parent go away
            proc = context.Process(target=_work, args=(child_end, inherited, worker, prepare, apply, tenant, environment, variables, assets_dir, environ), daemon=True)
            proc.start()
            child_end.close()
            conns.append(parent_end)
            procs.append(proc)
        loaded = _phase_one(files, conns)
        # in discovery order, as one process would have them: finish() keeps the first of two same-named jobs
        result = collect((loaded.get(index) for index in range(len(files))), AssetCache(assets_dir), tenant, environment, variables, environ)

        keys: list[list[int]] = [[] for _ in range(count)]
        for job in result.jobs:
            if isinstance(job, JobRef):
                keys[job.worker].append(job.key)
        for conn, mine in zip(conns, keys):
            conn.send(mine)
        here = {id(job): apply(prepare(job)) for job in result.jobs if not isinstance(job, JobRef)}  # shared files, built here
        applied: dict[tuple[int, int], Any] = {}
        for worker, conn in enumerate(conns):
            for key, value in _receive(conn, "applied"):
                applied[(worker, key)] = value
        outcomes = [applied[(job.worker, job.key)] if isinstance(job, JobRef) else here[id(job)] for job in result.jobs]
        return result, outcomes, count
    finally:
        for conn in conns:
            conn.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _phase_one(files: list[str], conns: list[Connection]) -> dict[int, Any]:
    """Hand out chunks of files to whichever worker is free; two in flight each, so none waits for the parent."""
    from multiprocessing.connection import wait

    numbered = list(enumerate(files))
    size = max(1, min(CHUNK, len(numbered) // (4 * len(conns))))  # a small tree: smaller chunks, so both workers get a share
    chunks = [numbered[i:i + size] for i in range(0, len(numbered), size)][::-1]  # popped from the end: in order
    in_flight = {id(conn): 0 for conn in conns}
    loaded: dict[int, Any] = {}

    def feed(conn: Connection) -> None:
        while chunks and in_flight[id(conn)] < 2:
            conn.send(chunks.pop())
            in_flight[id(conn)] += 1
        if not chunks and in_flight[id(conn)] == 0:
            conn.send(None)

    for conn in conns:
        feed(conn)
    busy = [conn for conn in conns if in_flight[id(conn)]]
    while busy:
        for conn in wait(busy):
            for index, value in _receive(conn, "loaded"):
                loaded[index] = value
            in_flight[id(conn)] -= 1
            feed(conn)
            if not in_flight[id(conn)]:
                busy.remove(conn)  # type: ignore[arg-type]
    return loaded


def _receive(conn: Connection, expected: str) -> Any:
    try:
        kind, value = conn.recv()
    except (EOFError, OSError):
        raise WorkerError("a worker process ended without an answer (killed, or out of memory); run again with --parallel 1 to do the work in one process") from None
    if kind == "error":
        raise WorkerError(f"a worker process failed: {value.strip().splitlines()[-1]} (please report this with the command you ran)", detail=value)
    if kind != expected:
        raise WorkerError(f"a worker process answered {kind!r} where {expected!r} was expected")
    return value

