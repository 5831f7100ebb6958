"""Run one operation on one stack for Dagster: the offline plan, or preview/up/refresh through :mod:`dativo_infra.automation`.

The stack is found by the same discovery as ``plan --all`` (its files and the
tree's storage, as a fleet worker plans it) and run in this process: Dagster's
executors give every step a process (multiprocess) or a pod (``k8s_job_executor``)
of its own. The result is plain data — the metadata a Dagster run shows and the
stack's tags — or :class:`StackRunFailed` with the problems, saying whether a
retry can help (a lock held by another update) or not (anything else: the job
files, the stack config, the program, the CLI). No Dagster import here.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import ConfigError, DativoError, Problem
from ..fleet import StackRef
from .costs import stack_cost
from .settings import OPERATIONS, FleetSettings
from .stacks import find_stacks

__all__ = ["StackRun", "StackRunFailed", "find_stack", "run_stack", "stack_tags"]

TAG_VALUE_LIMIT = 63
GCP_PREFIX = "dativo-"  # GCP labels spell the dativo: namespace this way (tags.formats.gcp_key)


@dataclass
class StackRun:
    """What one operation did to one stack: ``metadata`` for Dagster, ``tags`` common to every job of the stack."""

    stack: str
    operation: str
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class StackRunFailed(Exception):
    """The operation failed; ``retryable``: only another update holding the stack's lock, which a later attempt can outwait."""

    def __init__(self, stack: str, operation: str, problems: list[Problem], retryable: bool = False):
        self.stack, self.operation, self.problems, self.retryable = stack, operation, problems, retryable
        super().__init__(f"{operation} of stack {stack} failed:\n" + "\n".join(p.render() for p in problems))


def find_stack(settings: FleetSettings, key: str, operation: str) -> StackRef:
    """The stack of partition key ``key``, as the discovery finds it now; :class:`StackRunFailed` if there is none."""
    found = find_stacks(settings)
    if key in found.stacks:
        return found.stacks[key]
    problems = [Problem(settings.jobs_folder(), f"no stack {key!r} here: no job file of this tenant and environment has an "
                                                "infrastructure block (or the files that had one cannot be read)")]
    raise StackRunFailed(key, operation, problems + found.problems)


def stack_tags(outputs: Mapping[str, Any]) -> dict[str, str]:
    """The tags every job of the stack carries with the same value, as Kubernetes labels (the shape Dagster's run tags take).

    Each job's output holds its tags in its cloud's format (``dativo:tenant`` on AWS,
    ``dativo-tenant`` on GCP); written as labels (``dativo.io/tenant``) they compare across clouds.
    """
    from ..tags.formats import kubernetes_key, kubernetes_value

    common: Optional[dict[str, str]] = None
    for output in outputs.values():
        given = output.get("tags") if isinstance(output, dict) else None
        if not isinstance(given, dict):
            continue
        labels = {}
        for key, value in given.items():
            try:
                key = f"dativo:{key[len(GCP_PREFIX):]}" if str(key).startswith(GCP_PREFIX) else str(key)
                labels[kubernetes_key(key)] = kubernetes_value(str(value))
            except ValueError:  # a key no label can hold (reserved prefix, no valid character)
                continue
        common = labels if common is None else {k: v for k, v in common.items() if labels.get(k) == v}
    return {k: v for k, v in sorted((common or {}).items()) if v and len(v) <= TAG_VALUE_LIMIT and k.count("/") <= 1}


def _plan(ref: StackRef, context: Any) -> StackRun:
    from ..plan import fresh_event_loop, gc_paused, plan_stack

    with fresh_event_loop(), gc_paused():
        plan = plan_stack(context, ref.files, ref.buckets)
    custom = [r for r in plan.resources if r.custom]
    by_job = Counter(r.job or "(tenant-level)" for r in custom)
    metadata = {
        "dativo/operation": "plan",
        "resources": len(custom),
        "jobs": len({r.job for r in custom if r.job}),
        "summary": f"{len(custom)} resources in {len({r.job for r in custom if r.job})} jobs",
        "resources_by_job": dict(sorted(by_job.items())),
        "resources_by_type": dict(sorted(Counter(r.type for r in custom).items())),
        "protected": sum(1 for r in custom if r.protect),
        "outputs": plan.outputs,
        "seconds": round(plan.seconds, 3),
    }
    if plan.warnings:
        metadata["policy_warnings"] = [w["line"] for w in plan.warnings]
    metadata.update(stack_cost(context, ref))
    return StackRun(ref.name, "plan", metadata, stack_tags(plan.outputs))


def _pulumi(settings: FleetSettings, ref: StackRef, context: Any, operation: str, on_output: Optional[Callable[[str], Any]]) -> StackRun:
    from .. import automation

    options = automation.StackOptions(secrets_provider=settings.secrets_provider, root=settings.project_dir)
    try:
        result = getattr(automation, operation)(context, options, on_output=on_output)
    except automation.StackLockedError as exc:
        raise StackRunFailed(ref.name, operation, exc.problems, retryable=True) from None
    changes = dict(result.changes)
    metadata = {
        "dativo/operation": operation,
        "resources": sum(n for kind, n in changes.items() if kind != "delete"),
        "changed": sum(n for kind, n in changes.items() if kind != "same"),
        "changes": changes,
        "summary": result.summary,
        "outputs": result.outputs,
        "backend": result.backend,
        "seconds": round(result.seconds, 3),
    }
    if result.notes:
        metadata["notes"] = list(result.notes)
    if operation != "refresh":  # what the stack is to cost once deployed; a refresh only reads
        metadata.update(stack_cost(context, ref))
    return StackRun(ref.name, operation, metadata, stack_tags(result.outputs))


def run_stack(settings: FleetSettings, ref: StackRef, operation: str, on_output: Optional[Callable[[str], Any]] = None) -> StackRun:
    """Run ``operation`` on the stack (:func:`find_stack`); raises :class:`StackRunFailed`, never anything else for bad input."""
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    try:
        context = settings.project().context(ref.tenant, ref.environment)
        if operation == "plan":
            return _plan(ref, context)
        return _pulumi(settings, ref, context, operation, on_output)
    except StackRunFailed:
        raise
    except (DativoError, ConfigError) as exc:
        raise StackRunFailed(ref.name, operation, exc.problems) from None
    except Exception as exc:  # the program's StackError carries problems; anything else is a bug, reported with its type
        problems = getattr(exc, "problems", None)
        if not problems:
            problems = [Problem(f"stack {ref.name}", f"{type(exc).__name__}: {exc}")]
        raise StackRunFailed(ref.name, operation, list(problems)) from exc
