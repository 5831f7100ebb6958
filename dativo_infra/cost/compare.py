"""``cost --compare-to REF``: what a change to the jobs does to the estimate, job by job, tenant by tenant, and in total.

    with before_tree(".", "origin/main") as old_root:          # a git revision, read with git archive into a temp folder
        old = estimate the same paths under old_root            # (the CLI does this with the same estimator as `cost`)
    diff = compare(old_estimates, new_estimates)
    diff.as_dict()                                              # {"jobs": [...], "tenants": [...], "total": {...}}

REF is another folder (the same project laid out the same way) or a git revision. A revision is resolved with
``git rev-parse --verify --end-of-options REF^{commit}`` and read with ``git archive`` of that commit: the
work tree, the index and the repository's worktree list are never touched, and git runs with an argument
list, never a shell. A REF that starts with ``-`` is refused before git sees it. Both sides are priced with
the same price book, so the diff shows what the jobs' change costs, not a change of price tables.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from ..errors import ConfigError, Problem
from .estimate import JobEstimate, json_number

__all__ = ["CostDiff", "JobChange", "TenantChange", "before_tree", "compare", "relative_inside"]

GIT_TIMEOUT = 120  # seconds: archiving a project folder is quick; a hung git (a lock, a prompt) must not hang the review
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class JobChange:
    tenant: str
    environment: str
    job: str
    before: Optional[Decimal]  # None: the job is new
    after: Optional[Decimal]  # None: the job was removed
    file_before: str = ""
    file_after: str = ""

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "unchanged" if self.before == self.after else "changed"

    @property
    def change(self) -> Decimal:
        return (self.after or ZERO) - (self.before or ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "environment": self.environment, "job": self.job, "status": self.status,
                "before": None if self.before is None else json_number(self.before),
                "after": None if self.after is None else json_number(self.after), "change": json_number(self.change),
                "file_before": self.file_before or None, "file_after": self.file_after or None}


@dataclass(frozen=True)
class TenantChange:
    tenant: str
    before: Decimal
    after: Decimal
    jobs_added: int
    jobs_removed: int
    jobs_changed: int

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "before": json_number(self.before), "after": json_number(self.after), "change": json_number(self.change),
                "jobs_added": self.jobs_added, "jobs_removed": self.jobs_removed, "jobs_changed": self.jobs_changed}


@dataclass(frozen=True)
class CostDiff:
    ref: str
    jobs: tuple[JobChange, ...]
    tenants: tuple[TenantChange, ...]

    @property
    def before(self) -> Decimal:
        return sum((t.before for t in self.tenants), ZERO)

    @property
    def after(self) -> Decimal:
        return sum((t.after for t in self.tenants), ZERO)

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "jobs": [j.as_dict() for j in self.jobs], "tenants": [t.as_dict() for t in self.tenants],
                "total": {"before": json_number(self.before), "after": json_number(self.after), "change": json_number(self.change)}}


def compare(before: Iterable[JobEstimate], after: Iterable[JobEstimate], ref: str = "") -> CostDiff:
    """Job by job (keyed by tenant, environment and job name) and tenant by tenant; totals are sums of the jobs' rounded costs."""
    old = {(e.tenant, e.environment, e.job): e for e in before}
    new = {(e.tenant, e.environment, e.job): e for e in after}
    jobs = tuple(JobChange(*key, old[key].monthly_cost if key in old else None, new[key].monthly_cost if key in new else None,
                           old[key].file if key in old else "", new[key].file if key in new else "")
                 for key in sorted(old.keys() | new.keys()))
    tenants = []
    for tenant in sorted({j.tenant for j in jobs}):
        mine = [j for j in jobs if j.tenant == tenant]
        tenants.append(TenantChange(tenant, sum((j.before or ZERO for j in mine), ZERO), sum((j.after or ZERO for j in mine), ZERO),
                                    sum(j.status == "added" for j in mine), sum(j.status == "removed" for j in mine),
                                    sum(j.status == "changed" for j in mine)))
    return CostDiff(ref, jobs, tuple(tenants))


def relative_inside(path: str, root: str, what: str) -> str:
    """``path`` relative to ``root``; a problem when it lies outside (its old version could not be found the same way)."""
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        raise ConfigError([Problem(path, f"lies outside {what} {root}: --compare-to reads the same path in the other version of it")])
    return relative


def _git(args: list[str], cwd: str, what: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise ConfigError([Problem("--compare-to", "git is not installed: give another folder instead of a revision")]) from None
    except subprocess.TimeoutExpired:
        raise ConfigError([Problem("--compare-to", f"git {args[0]} took over {GIT_TIMEOUT} s: stopped")]) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError([Problem("--compare-to", f"{what}: {detail[-1] if detail else f'git exit {done.returncode}'}")])
    return done.stdout


def _extract(archive: bytes, target: str) -> None:
    """Unpack git archive's tar: regular files and folders only (no links, devices), every path inside ``target``."""
    root = os.path.realpath(target)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar.getmembers():
            path = os.path.realpath(os.path.join(root, member.name))
            if not (path == root or path.startswith(root + os.sep)) or not (member.isfile() or member.isdir()):
                continue  # git archive writes neither; a symbolic link in the repository is skipped, never followed
            if member.isdir():
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            source = tar.extractfile(member)
            with open(path, "wb") as handle:
                handle.write(source.read() if source else b"")


@contextlib.contextmanager
def before_tree(project_dir: str, ref: str) -> Iterator[str]:
    """The project folder as it is in ``ref``: the folder itself when ``ref`` is a folder, else a temporary copy of the
    project folder at that git revision (removed afterwards)."""
    if os.path.isdir(ref):
        yield ref
        return
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n"):
        raise ConfigError([Problem("--compare-to", f"{ref!r} is neither a folder nor a git revision (a revision never starts with '-')")])
    top = _git(["rev-parse", "--show-toplevel"], project_dir, "not in a git repository").decode().strip()
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], project_dir,
                  f"{ref!r} is not a commit of this repository (nor a folder)").decode().strip()
    inside = relative_inside(project_dir, top, "the git repository")
    with tempfile.TemporaryDirectory(prefix="dativo-compare-") as temp:
        archive = _git(["archive", "--format=tar", commit, *([] if inside == "." else ["--", inside])], top,
                       f"cannot read {inside} at {ref}")
        _extract(archive, temp)
        yield os.path.join(temp, inside)
