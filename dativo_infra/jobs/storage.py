"""Storage bound to its tenant: which buckets several tenants share, and what each job may name on them.

A job's role gets read, write and delete under ``bucket/prefix``. So, over a
whole tree of job files:

- a **shared bucket** is one named by a shared ``${TENANT_ID}`` file or listed in
  some stack's ``dativo-infra:sharedBuckets`` (the platform team's files). On it a
  job's prefix must start with its own tenant's segment (``dativo-infra:tenantPrefix``,
  default ``{tenant}/``), so no tenant reaches another's objects;
- a bucket that a tenant's job **creates** is that tenant's own: another tenant's job
  may name it only when its stack lists it in ``dativo-infra:allowedBuckets``, and
  then only under its own segment;
- any other bucket named by jobs of more than one tenant is an error for each of
  them: no tenant can claim another's bucket by naming it (the platform declares it
  shared, or one tenant creates it and lets the others in).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import Problem

Position = tuple[Optional[int], Optional[int]]
# where a field of a job file is (line, column): asked only for a problem, so files that pass are never composed twice
Locate = Callable[[tuple[str, ...]], Position]


ANY_TENANT = "*"  # a shared ${TENANT_ID} file: every tenant that runs it names the bucket


@dataclass(frozen=True)
class BucketUse:
    """One job file's storage, as far as it can be read before the file is built (light: it crosses processes)."""

    path: str
    tenant: str
    bucket: str
    prefix: str
    creates: bool


def bucket_use(path: str, tenant: Optional[str], storage: Any) -> Optional[BucketUse]:
    if tenant is None or not isinstance(storage, dict):
        return None
    bucket, prefix = storage.get("bucket"), storage.get("prefix", "")
    if not isinstance(bucket, str) or "${" in bucket or not isinstance(prefix, str):
        return None
    return BucketUse(path, tenant, bucket, prefix.strip("/"), storage.get("create_bucket") is True)


@dataclass
class BucketIndex:
    named_by: dict[str, set[str]]
    created_by: dict[str, set[str]]

    @classmethod
    def of(cls, uses: Iterable[BucketUse]) -> BucketIndex:
        index = cls({}, {})
        for use in uses:
            index.named_by.setdefault(use.bucket, set()).add(use.tenant)
            if use.creates:
                index.created_by.setdefault(use.bucket, set()).add(use.tenant)
        return index

    def shared(self, bucket: str, declared: Iterable[str] = ()) -> bool:
        """Declared shared: by a stack (``declared``) or by a shared job file naming it."""
        return ANY_TENANT in self.named_by.get(bucket, set()) or bucket in set(declared)


def check(use: BucketUse, tenant: str, index: BucketIndex, *, root: str, shared_buckets: Iterable[str] = (),
          allowed_buckets: Iterable[str] = (), locate: Locate = lambda field: (None, None)) -> list[Problem]:
    """The problems of one job's storage (``tenant`` is the job's own, ``root`` its prefix segment such as ``acme/``)."""
    problems = []
    owners = index.created_by.get(use.bucket, set()) - {tenant}
    if owners and tenant not in index.created_by.get(use.bucket, set()) and use.bucket not in set(allowed_buckets):
        line, col = locate(("infrastructure", "storage", "bucket"))
        problems.append(Problem(use.path, f"bucket {use.bucket!r} belongs to tenant {', '.join(sorted(owners))} (created by its job); tenant "
                                          f"{tenant!r} may name it only when its stack lists it in dativo-infra:allowedBuckets",
                                field="infrastructure.storage.bucket", line=line, col=col))
    creator = tenant in index.created_by.get(use.bucket, set())
    shared = index.shared(use.bucket, shared_buckets)
    others = sorted(t for t in index.named_by.get(use.bucket, set()) - {tenant} if t != ANY_TENANT)
    if others and not shared and not index.created_by.get(use.bucket):
        line, col = locate(("infrastructure", "storage", "bucket"))
        problems.append(Problem(use.path, f"bucket {use.bucket!r} is also named by tenant {', '.join(others)} and is nobody's declared shared "
                                          "bucket: list it in dativo-infra:sharedBuckets (then each tenant's prefix must start with its "
                                          "own segment), or let one tenant's job create it and the others' stacks list it in "
                                          "dativo-infra:allowedBuckets", field="infrastructure.storage.bucket", line=line, col=col))
        return problems
    guest = bool(owners) and not creator
    if (shared or guest) and not creator and not (use.prefix + "/").startswith(root):
        line, col = locate(("infrastructure", "storage", "prefix"))
        if line is None:  # no prefix written: the bucket's line
            line, col = locate(("infrastructure", "storage", "bucket"))
        why = "shared between tenants" if shared else f"tenant {', '.join(sorted(owners))}'s (created by its job)"
        problems.append(Problem(use.path, f"bucket {use.bucket!r} is {why}: the prefix must start with this tenant's segment {root!r} "
                                          f"(got {use.prefix!r}), so the job reaches only its own tenant's objects",
                                field="infrastructure.storage.prefix", line=line, col=col))
    return problems
