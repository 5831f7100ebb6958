"""The fleet's stacks as Dagster partition keys, and the run tags of each: from the discovery ``plan --all`` uses.

Tenant and environment names come from tenants' job files (untrusted) and become
partition keys and run tags, so each is checked against the job model's rule
(1–32 lowercase letters, digits and hyphens, starting with a letter), which
fits Dagster's partition keys and tag values; a stack whose name breaks it is a
problem naming its file, never a partition. No Dagster import here.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import ConfigError, Problem
from ..fleet import Discovery, StackRef, discover_stacks
from .settings import FleetSettings

__all__ = ["ACCOUNT_TAGS", "FleetStacks", "TAG_PREFIX", "find_stacks", "partition_run_tags", "run_tags", "stack_partitions"]

NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}\Z")  # the job model's rule for tenant_id and environment
TAG_PREFIX = "dativo"  # run tags: dativo/stack, dativo/tenant, dativo/environment, dativo/operation, accounts below
# a stack's cloud accounts, from its stack config: run tags that a run queue can limit per unique value
ACCOUNT_TAGS = {
    "dativo/aws-account": ("aws:allowedAccountIds", "aws:profile"),
    "dativo/gcp-project": ("gcp:project",),
    "dativo/azure-subscription": ("azure-native:subscriptionId",),
}
TAG_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,63}\Z")  # Dagster's strict tag values (and Kubernetes label values)


@dataclass
class FleetStacks:
    """Partition key (``<tenant>-<environment>``) → stack, and the problems of files no stack can be made of."""

    stacks: dict[str, StackRef] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return sorted(self.stacks)


def _discover(settings: FleetSettings, tenant: Optional[str], environment: Optional[str]) -> Discovery:
    jobs_dir = settings.jobs_folder()
    try:
        return discover_stacks(jobs_dir, tenant=tenant, environment=environment, project=settings.project())
    except ConfigError as exc:
        # a broken stack file stops the discovery that asks every stack file which shared jobs it takes; without the
        # stack files, every stack with job files is still found (the broken one then fails its own run)
        try:
            found = discover_stacks(jobs_dir, tenant=tenant, environment=environment)
        except ConfigError as again:
            return Discovery([], exc.problems + again.problems)
        return Discovery(found.stacks, exc.problems + found.problems)


def _naming_files(ref: StackRef) -> list[str]:
    """The job files that plainly name this stack's tenant (the culprits of a bad name); only read when one is bad."""
    from ..jobs.loader import parse_file, plain_scope

    found = []
    for path in ref.files or ():
        try:
            if plain_scope(parse_file(path).data)[0] == ref.tenant:
                found.append(path)
        except ConfigError:
            continue
    return found


def _bad_name(ref: StackRef, same_tenant: list[StackRef], settings: FleetSettings) -> Optional[Problem]:
    """The problem of a stack whose tenant or environment cannot be a partition key, naming the files that name it.

    A stack made of shared files names its tenant in another environment's files (``same_tenant``), or in its stack file.
    """
    for what, value in (("tenant_id", ref.tenant), ("environment", ref.environment)):
        if not NAME.match(value):
            files = (_naming_files(ref) or sorted({path for other in same_tenant for path in _naming_files(other)})
                     or [settings.project().stack_file(ref.tenant, ref.environment)])
            return Problem(", ".join(files), f"{what} {value!r} cannot name a stack partition: use 1-32 lowercase letters, digits "
                                             "and hyphens, starting with a letter", field=what)
    return None


def _without_others_oversized(stacks: list[StackRef]) -> list[StackRef]:
    """Each stack without the files too big to read that plainly name another tenant in their first lines.

    The discovery lists a file it cannot parse for every stack, and the loader leaves out one whose
    ``tenant_id:`` line names another tenant; but it never reads a file over its size limit, so one huge
    file would fail every stack of the fleet. Its tenant has no partition then: it is a problem of the discovery.
    """
    from ..jobs.files import MAX_FILE_BYTES
    from ..jobs.loader import unparsed_tenant

    oversized: dict[str, Optional[str]] = {}
    for path in {p for ref in stacks for p in ref.files or ()}:
        try:
            if os.stat(path).st_size > MAX_FILE_BYTES:
                oversized[path] = unparsed_tenant(path)
        except OSError:
            continue
    if not oversized:
        return stacks
    return [dataclasses.replace(ref, files=tuple(p for p in ref.files if oversized.get(p, ref.tenant) in (None, ref.tenant)))
            if ref.files is not None else ref for ref in stacks]


def find_stacks(settings: Optional[FleetSettings] = None, *, tenant: Optional[str] = None, environment: Optional[str] = None) -> FleetStacks:
    """Every stack of the jobs folder ``plan --all`` would run, keyed by partition key; never raises for bad files."""
    settings = settings or FleetSettings.from_env()
    found = _discover(settings, tenant, environment)
    result = FleetStacks(problems=list(found.problems))
    by_key: dict[str, list[StackRef]] = {}
    for ref in _without_others_oversized(list(found.stacks)):
        problem = _bad_name(ref, [other for other in found.stacks if other.tenant == ref.tenant and other != ref], settings)
        if problem is not None:
            result.problems.append(problem)
            continue
        by_key.setdefault(ref.name, []).append(ref)
    for key, refs in by_key.items():
        if len(refs) == 1:
            result.stacks[key] = refs[0]
            continue
        pairs = " and ".join(f"tenant {r.tenant!r} environment {r.environment!r}" for r in refs)
        files = sorted({path for r in refs for path in _naming_files(r)})
        result.problems.append(Problem(", ".join(files) or key, f"{pairs} both make stack {key!r}: rename one tenant or environment"))
    return result


_RECENT: dict[FleetSettings, tuple[float, FleetStacks]] = {}
RECENT_SECONDS = 30.0  # a backfill asks for the tags of many partitions at once: one discovery serves them all


def partition_run_tags(settings: FleetSettings, key: str, operation: str) -> dict[str, str]:
    """:func:`run_tags` of the stack of partition ``key``, for a run Dagster creates (UI, backfill, sensor) before it is queued.

    So the run queue's limits per tenant and per account hold for every run, not only the sensor's.
    A key no stack has now gets only the operation: its run fails and says why.
    """
    import time

    now = time.monotonic()
    seen = _RECENT.get(settings)
    if seen is None or now - seen[0] > RECENT_SECONDS:
        seen = _RECENT[settings] = (now, find_stacks(settings))
    ref = seen[1].stacks.get(key)
    if ref is None:
        return {f"{TAG_PREFIX}/operation": operation}
    return run_tags(ref, operation, settings.project())


def stack_partitions(settings: Optional[FleetSettings] = None) -> list[str]:
    """The partition keys (``<tenant>-<environment>``) the definitions use: one per stack ``plan --all`` finds."""
    return find_stacks(settings).keys


def _account(config: Mapping[str, Any], keys: tuple[str, ...]) -> Optional[str]:
    for key in keys:
        value = config.get(key)
        if isinstance(value, list) and len(value) == 1:  # aws:allowedAccountIds: one account pins the stack
            value = value[0]
        if isinstance(value, (str, int)) and not isinstance(value, bool) and TAG_VALUE.match(str(value)):
            return str(value)
    return None


def run_tags(ref: StackRef, operation: str, project: Any) -> dict[str, str]:
    """The tags of a run of ``operation`` on this stack: who it is, and the cloud accounts its stack config names.

    The run queue's ``tag_concurrency_limits`` (examples/dagster/) limit runs per
    stack, per tenant and per account through them. A stack file that cannot be
    read gives no account tags: its own run reports the file. ``project``: a
    :class:`~dativo_infra.stack.Project`, one for all the stacks of a tick.
    """
    tags = {f"{TAG_PREFIX}/stack": ref.name, f"{TAG_PREFIX}/tenant": ref.tenant, f"{TAG_PREFIX}/environment": ref.environment,
            f"{TAG_PREFIX}/operation": operation}
    try:
        config = project.context(ref.tenant, ref.environment).config
    except ConfigError:
        return tags
    for tag, keys in ACCOUNT_TAGS.items():
        account = _account(config, keys)
        if account is not None:
            tags[tag] = account
    return tags
