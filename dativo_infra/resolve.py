"""One step from a plain job to what every way in consumes: ``resolve(job, stack) -> ResolvedJob``.

The loader gives a :class:`~dativo_infra.jobs.Job` (the file, validated);
the stack context (:mod:`dativo_infra.stack`) says what the stack's
configuration adds (region, image, variables). ``resolve`` combines the two
once: the job's tags per cloud and its one flat set of variables. ``validate``,
``tags``, ``terraform export``, ``plan`` and the Pulumi program all call it,
and nothing downstream computes a tag or a variable again.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from .errors import ConfigError, Problem, TagError
from .jobs import Job
from .jobs.rules import region_of
from .stack import CLOUD_REGION_KEYS, Project, StackContext
from .tags import TagSet, format_levels
from .tags.merge import candidates
from .variables import clashing_variables, job_variables

if TYPE_CHECKING:
    from .jobs.loader import Scope
    from .jobs.storage import BucketUse
    from .policy import Finding, Policy

__all__ = ["ResolvedJob", "Resolver", "azure_resource_group", "resolve"]

_AZURE_ID_GROUP = re.compile(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/", re.IGNORECASE)


@dataclass(frozen=True)
class ResolvedJob:
    """A job in its stack: its tags for each cloud it needs, and its variables."""

    job: Job
    stack: StackContext
    tag_sets: Mapping[str, TagSet]
    variables: Mapping[str, Any]
    warnings: tuple[Finding, ...] = field(default=(), compare=False)  # the tag policy's warn rules this job breaks

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def path(self) -> str:
        return self.job.path

    @property
    def tenant(self) -> str:
        return self.job.tenant

    @property
    def environment(self) -> str:
        return self.job.environment

    @property
    def runtime(self) -> Optional[str]:
        return self.job.runtime

    @property
    def provider_tags(self) -> TagSet:
        return self.tag_sets[self.variables["cloud_provider"]]


def azure_resource_group(job: Job) -> str:
    """The job's resource group: as written, else the one in its managed environment's (or cluster's) resource ID."""
    infra = job.infrastructure
    if infra is None:
        return ""
    if infra.resource_group:
        return infra.resource_group
    match = _AZURE_ID_GROUP.match(infra.runtime.cluster_name or "")
    return match.group(1) if match else ""


def _needs_region(job: Job) -> bool:
    """Where no region means the provider cannot place a resource (Azure on Kubernetes follows the cluster's location)."""
    infra = job.infrastructure
    assert infra is not None
    runtime = job.runtime
    if infra.provider == "aws":
        return True
    if runtime in ("cloud_run", "container_apps"):
        return True
    return bool(infra.provider == "gcp" and infra.storage and infra.storage.create_bucket)


def _position(job: Job, dotted: str) -> tuple[Optional[int], Optional[int]]:
    if job.locator is None:
        return None, None
    loc = tuple(int(p) if p.isdigit() else p for p in dotted.split(".")) if dotted else ()
    return job.locator.position(loc)


def _problem(job: Job, dotted: str, message: str) -> Problem:
    line, col = _position(job, dotted)
    return Problem(job.path, message, field=dotted, line=line, col=col)


def _tag_problem(job: Job, problem: Problem) -> Problem:
    """A tag problem of this job's file, placed on its line."""
    if problem.file != job.path or problem.line is not None:
        return problem
    field = problem.field
    if field.startswith("infrastructure.tags."):  # the key itself may hold dots
        loc: tuple[str, ...] = ("infrastructure", "tags", field.split(".", 2)[2])
    else:
        loc = {"job.finops": ("finops",), "infrastructure.tags": ("infrastructure", "tags")}.get(field, ())
    line, col = job.locator.position(loc) if job.locator else (None, None)
    return Problem(problem.file, problem.message, field, line, col)


@functools.lru_cache(maxsize=16)
def _policy(path: str) -> Policy:
    from .policy import load_policy

    return load_policy(path)


def policy_findings(job: Job, stack: StackContext, tag_sets: Mapping[str, TagSet]) -> list[Finding]:
    """The stack's tag policy (``dativo-infra:policy`` / ``--policy``) on each of the job's tag sets."""
    if not stack.policy or job.infrastructure is None:
        return []
    from .policy import evaluate

    policy, infra = _policy(stack.policy), job.infrastructure
    return [finding for cloud, tags in tag_sets.items()
            for finding in evaluate(policy, tenant=job.tenant, environment=job.environment, provider=infra.provider,
                                    runtime=infra.runtime.type, job_file=job.path, tag_set=tags, cloud=cloud)]


def required_tag_keys(job: Job, stack: StackContext, cloud: str) -> list[str]:
    """What the Terraform modules' ``required_tag_keys`` / ``required_label_keys`` check: the policy's error keys for this job."""
    if not stack.policy or job.infrastructure is None:
        return []
    from .policy import required_keys

    infra = job.infrastructure
    return required_keys(_policy(stack.policy), tenant=job.tenant, environment=job.environment, provider=infra.provider,
                         runtime=infra.runtime.type, cloud=cloud)


def _policy_problem(finding: Finding) -> Problem:
    where = f"level {finding.level} from {finding.source}" if finding.source else f"level {finding.level}"
    return Problem(finding.job_file, f"{finding.key}: {finding.message} (rule {finding.rule}: {finding.rule_description}; {where})",
                   field="policy")


def resolve(job: Job, stack: StackContext) -> ResolvedJob:
    """The job in ``stack``: raises :class:`ConfigError` with every problem, each on its line."""
    infra = job.infrastructure
    if infra is None:
        raise ValueError(f"{job.path}: job has no infrastructure block; nothing to resolve")
    problems: list[Problem] = []
    region = region_of(infra) or stack.region_for(infra.provider)
    if not region and _needs_region(job):
        key = CLOUD_REGION_KEYS[infra.provider]
        problems.append(_problem(job, "infrastructure.region",
                                 f"no region for this {infra.provider} job: set infrastructure.region in the job file, or {key} in "
                                 f"Pulumi.{stack.stack_name}.yaml (pulumi config set {key} <region> --stack {stack.stack_name})"))
    resource_group = azure_resource_group(job) if infra.provider == "azure" else ""
    if infra.provider == "azure" and not resource_group:
        problems.append(_problem(job, "infrastructure.resource_group",
                                 "Azure resources live in a resource group: set resource_group, or give runtime.cluster_name as the "
                                 "managed environment's (or cluster's) resource ID /subscriptions/…/resourceGroups/GROUP/providers/…"))
    levels = candidates(job)
    tag_sets: dict[str, TagSet] = {}
    for cloud in job.clouds:
        try:
            tag_sets[cloud] = format_levels(levels, cloud)
        except TagError as exc:
            problems.extend(p for p in (_tag_problem(job, p) for p in exc.problems) if p not in problems)
    if problems:
        raise ConfigError(problems)
    findings = policy_findings(job, stack, tag_sets)
    errors = [_policy_problem(f) for f in findings if f.severity == "error"]
    if errors:
        raise ConfigError(errors)
    required = {"required_tag_keys": required_tag_keys(job, stack, infra.provider)}
    if job.runtime == "kubernetes":
        required["required_label_keys"] = required_tag_keys(job, stack, "kubernetes")
    variables = job_variables(job, tag_sets, image=stack.image, region=region, resource_group=resource_group, **required)
    clashes = clashing_variables(job, variables)
    if clashes:
        raise ConfigError([_problem(job, f"infrastructure.terraform.variables.{name}", message) for name, message in clashes])
    return ResolvedJob(job, stack, tag_sets, variables, tuple(f for f in findings if f.severity != "error"))


class Resolver:
    """Resolves each job in its own stack's context (``Pulumi.<tenant>-<environment>.yaml``), contexts read once."""

    def __init__(self, project: Optional[Project] = None):
        self.project = project or Project()

    def context(self, job: Job) -> StackContext:
        return self.project.context(job.tenant, job.environment)

    def __call__(self, job: Job) -> ResolvedJob:
        return resolve(job, self.context(job))

    def scope(self, paths: Iterable[str] = ()) -> Scope:
        """For the loader: each stack's choice of shared jobs and storage rules; the tenants the stack files declare;
        and the storage of the project's whole jobs tree when ``paths`` (what the command reads) do not cover it,
        so that one file or one folder is judged against every tenant's buckets, as a plan of the whole tree is."""
        from .jobs.loader import Scope

        return Scope(self.project.context, frozenset(t for t, _ in self.project.stack_files()),
                     buckets=tree_buckets(self.project.jobs_dir, paths), shared_buckets=self.project.declared_shared_buckets())


def tree_buckets(jobs_dir: str, paths: Iterable[str]) -> tuple[BucketUse, ...]:
    """Every job file's storage under ``jobs_dir``, unless one of ``paths`` already holds that whole folder."""
    import os

    from .jobs.files import discover
    from .jobs.loader import bucket_use_of, parse_file

    tree = os.path.realpath(jobs_dir)
    if not os.path.isdir(tree) or any(tree == (real := os.path.realpath(p)) or tree.startswith(real + os.sep) for p in paths):
        return ()
    uses = []
    for path in discover([jobs_dir])[0]:
        try:
            use = bucket_use_of(parse_file(path), {})
        except ConfigError:
            continue  # its own run reports it; here only its bucket matters
        if use is not None:
            uses.append(use)
    return tuple(uses)
