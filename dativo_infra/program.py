"""The Pulumi program: one tenant stack, every job of that tenant, tagged.

The same :func:`pulumi_program` runs under ``pulumi up`` (``__main__.py``),
as the Automation API's inline program, and under the SDK's mock runtime for
``dativo-infra plan``. Its settings are the stack's config, read through
Pulumi (``Pulumi.<stack>.yaml`` over the defaults of ``Pulumi.yaml``, which
documents every key) and turned into a :class:`~dativo_infra.stack.StackContext`
by the same function the command line uses (:func:`dativo_infra.stack.context_from_config`).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Optional

import pulumi

from .components import component_class, lookups
from .errors import DativoError, Problem, ProgramError
from .jobs import load_jobs
from .jobs.loader import Scope
from .resolve import ResolvedJob, resolve
from .stack import CLOUD_REGION_KEYS, NAMESPACE, SETTINGS, StackContext, context_from_config
from .tags import format_levels
from .tags.merge import tenant_candidates
from .tags.transformation import register as register_tag_transformation

# the name this context had before stack files were read: a StackContext built by hand is one stack's settings
StackSettings = StackContext

__all__ = ["NAMESPACE", "StackError", "StackSettings", "build_stack", "context_from_pulumi", "load_stack_jobs", "program_context", "pulumi_program", "stack_config"]


# what a run of the program tells its caller besides resources: the tag policy's warnings, each job's scope.
# ``plan`` sets a fresh dict here before it runs the program (a ContextVar: every plan in one process has its own).
REPORT: ContextVar[Optional[dict]] = ContextVar("dativo_infra_program_report", default=None)


class StackError(pulumi.RunError):
    """Raised by the program for bad configuration or job files: Pulumi prints the message, no traceback."""

    def __init__(self, error: DativoError):
        self.problems = error.problems
        super().__init__(str(error))


def stack_config(context: StackContext) -> dict[str, str]:
    """The context as Pulumi stack config (``namespace:key`` → text), which :func:`context_from_pulumi` reads back unchanged.

    The Automation API sets exactly this on a stack, and ``plan`` gives it to the
    mock runtime: one stack's settings, whichever way in.
    """
    config: dict[str, str] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in context.config.items() if v is not None}
    values: dict[str, Any] = {"tenant": context.tenant, "environment": context.environment, "jobsDir": context.jobs_dir,
                              "assetsDir": context.assets_dir, "image": context.image, "policy": context.policy,
                              "vars": dict(context.variables) or None, "tenantPrefix": context.tenant_prefix,
                              "sharedJobs": context.shared_jobs if isinstance(context.shared_jobs, str) else list(context.shared_jobs),
                              "envVars": list(context.env_allowed) or None, "sharedBuckets": list(context.shared_buckets) or None,
                              "allowedBuckets": list(context.allowed_buckets) or None}
    for key, value in values.items():
        if value is None:
            config.pop(f"{NAMESPACE}:{key}", None)
        else:
            config[f"{NAMESPACE}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    for cloud, key in CLOUD_REGION_KEYS.items():
        if context.region_for(cloud):
            config[key] = context.region_for(cloud)
    return config


def context_from_pulumi() -> StackContext:
    """This stack's context, from the config Pulumi gives the program."""
    project = pulumi.Config(NAMESPACE)

    def value(key: str) -> Optional[str]:
        namespace, name = key.split(":", 1)
        return project.get(name) if namespace == NAMESPACE else pulumi.Config(namespace).get(name)

    return _context_from_values(value, pulumi.get_stack())


def program_context(context: StackContext) -> StackContext:
    """The context the program reads back from :func:`stack_config` (``context``): what its jobs are resolved with.

    Without Pulumi: a fleet resolves a stack's jobs with it before the provider SDKs
    are loaded, and the program uses those jobs only if its own context equals it.
    """
    config = stack_config(context)
    return _context_from_values(config.get, context.stack_name)


def _context_from_values(value: Callable[[str], Optional[str]], stack_name: str) -> StackContext:
    config: dict[str, Any] = {}
    for key in [f"{NAMESPACE}:{k}" for k in SETTINGS] + list(CLOUD_REGION_KEYS.values()):
        found = value(key)
        if found is not None:
            config[key] = found
    return context_from_config(config, source=f"stack {stack_name}")


def load_stack_jobs(context: StackContext, job_files: Optional[tuple[str, ...]] = None, buckets: tuple = ()) -> list[ResolvedJob]:
    """The stack's jobs, resolved; every problem of every file before any resource exists.

    ``job_files``: the files of the jobs folder that can hold this stack's jobs,
    when a fleet's discovery already knows them (then ``buckets``: the storage of
    every file of the tree, which binds storage to tenants); None: every file under jobs_dir.
    """
    paths = list(job_files) if job_files is not None else [context.jobs_dir]
    result = load_jobs(paths, tenant=context.tenant, environment=context.environment, variables=context.variables,
                       assets_dir=context.assets_dir, scope=Scope(lambda tenant, environment: context, buckets=tuple(buckets)))
    if not result.ok:
        raise ProgramError(result.problems)
    problems: list[Problem] = []
    resolved: list[ResolvedJob] = []
    for job in result.jobs:
        if job.infrastructure is None:
            continue
        try:
            resolved.append(resolve(job, context))
        except DativoError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ProgramError(problems)
    if not resolved:
        raise ProgramError([Problem(context.jobs_dir, f"no job with an infrastructure block for tenant {context.tenant!r} in environment {context.environment!r}")])
    return resolved


def build_stack(context: StackContext, job_files: Optional[tuple[str, ...]] = None, buckets: tuple = (),
                jobs: Optional[list[ResolvedJob]] = None) -> dict[str, Any]:
    """The stack's resources; ``jobs``: its jobs already resolved with ``context`` (:func:`load_stack_jobs`), else loaded here."""
    if jobs is None:
        jobs = load_stack_jobs(context, job_files, buckets)  # all resolved before any resource

    def tenant_tags(cloud: str) -> dict:
        return format_levels(tenant_candidates(context.tenant, context.environment, context.jobs_dir), cloud).tags

    register_tag_transformation(tenant_tags)
    report = REPORT.get()
    for job in jobs:
        for finding in job.warnings:  # `pulumi up` shows these; `plan` prints them from the report
            pulumi.log.warn(finding.render())
        if report is not None:
            report.setdefault("warnings", []).extend(f.as_dict() | {"line": f.render()} for f in job.warnings)
            infra = job.job.infrastructure
            assert infra is not None
            report.setdefault("scopes", {})[job.name] = (infra.provider, infra.runtime.type)
    outputs = {}
    with lookups.per_stack():  # the provider's account, client config... looked up once, not per job
        for job in jobs:
            assert job.runtime is not None
            component = component_class(job.runtime)(job.name, job)
            outputs[job.name] = component.outputs
            pulumi.export(job.name, component.outputs)
    return outputs


def pulumi_program(context: Optional[StackContext] = None, *, job_files: Optional[tuple[str, ...]] = None, buckets: tuple = (),
                   resolved: Optional[tuple[StackContext, list[ResolvedJob]]] = None) -> None:
    """The program: the stack's context from its config unless given; ``job_files`` and ``buckets`` as in :func:`load_stack_jobs`.

    ``resolved``: a context and the stack's jobs resolved with it (a fleet prepares
    them ahead, :func:`program_context`); used only if that is this stack's context.
    """
    try:
        context = context or context_from_pulumi()
        jobs = resolved[1] if resolved is not None and resolved[0] == context else None
        build_stack(context, job_files, buckets, jobs)
    except DativoError as exc:
        raise StackError(exc) from None
