"""The Pulumi program: one tenant stack, every job of that tenant, tagged.

The same :func:`pulumi_program` runs under ``pulumi up`` (``__main__.py``),
as the Automation API's inline program, and under the SDK's mock runtime for
``dativo-infra plan``. Stack configuration (``Pulumi.yaml`` documents it)::

    dativo-infra:tenant       tenant whose jobs this stack provisions (required)
    dativo-infra:environment  environment of those jobs (required)
    dativo-infra:jobsDir      folder of job files (default: jobs)
    dativo-infra:assetsDir    folder of asset files (default: jobs/assets, or DATIVO_ASSETS_DIR)
    dativo-infra:image        the Dativo runner image, when a job names none
    dativo-infra:vars         values for ${VAR} in job files (an object)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

import pulumi

from .components import component_class, lookups
from .errors import DativoError, Problem, ProgramError
from .jobs import Job, load_jobs
from .tags import format_levels
from .tags.merge import tenant_candidates
from .tags.transformation import register as register_tag_transformation
from .variables import job_variables

NAMESPACE = "dativo-infra"


class StackError(pulumi.RunError):
    """Raised by the program for bad configuration or job files: Pulumi prints the message, no traceback."""

    def __init__(self, error: DativoError):
        self.problems = error.problems
        super().__init__(str(error))


@dataclass(frozen=True)
class StackSettings:
    tenant: str
    environment: str
    jobs_dir: str = "jobs"
    assets_dir: Optional[str] = None
    image: Optional[str] = None
    variables: dict = field(default_factory=dict)
    # the files of jobs_dir that can hold this stack's jobs, when a fleet's discovery already knows them
    # (the loader skips the others anyway); None: every file under jobs_dir
    job_files: Optional[tuple[str, ...]] = None

    @property
    def stack_name(self) -> str:
        return f"{self.tenant}-{self.environment}"


def settings_from_config() -> StackSettings:
    config = pulumi.Config(NAMESPACE)
    missing = [key for key in ("tenant", "environment") if not config.get(key)]
    if missing:
        raise ProgramError([Problem(f"stack {pulumi.get_stack()}", f"missing stack config {NAMESPACE}:{key}; run: pulumi config set {NAMESPACE}:{key} <value>")
                            for key in missing])
    variables = config.get_object("vars") or {}
    if not isinstance(variables, dict):
        raise ProgramError([Problem(f"stack {pulumi.get_stack()}", f"{NAMESPACE}:vars must be an object of NAME: value; set it with pulumi config set --path '{NAMESPACE}:vars.NAME' value")])
    return StackSettings(
        tenant=config.require("tenant"),
        environment=config.require("environment"),
        jobs_dir=config.get("jobsDir") or "jobs",
        assets_dir=config.get("assetsDir"),
        image=config.get("image"),
        variables={str(k): str(v) for k, v in variables.items()},
    )


def load_stack_jobs(settings: StackSettings) -> list[Job]:
    """The tenant's jobs for the environment; every problem of every file, before any resource exists."""
    paths = list(settings.job_files) if settings.job_files is not None else [settings.jobs_dir]
    result = load_jobs(paths, tenant=settings.tenant, environment=settings.environment,
                       variables=settings.variables, assets_dir=settings.assets_dir)
    if not result.ok:
        raise ProgramError(result.problems)
    jobs = [job for job in result.jobs if job.infrastructure is not None]
    if not jobs:
        raise ProgramError([Problem(settings.jobs_dir, f"no job with an infrastructure block for tenant {settings.tenant!r} in environment {settings.environment!r}")])
    names = [job.name for job in jobs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProgramError([Problem(job.path, f"two job files of tenant {settings.tenant} are both named {job.name!r}; rename one") for job in jobs if job.name in duplicates])
    return jobs


def build_stack(settings: StackSettings) -> dict[str, Any]:
    jobs = load_stack_jobs(settings)
    variables = {job.name: job_variables(job, settings.image) for job in jobs}  # all computed before any resource

    def tenant_tags(cloud: str) -> dict:
        return format_levels(tenant_candidates(settings.tenant, settings.environment, settings.jobs_dir), cloud).tags

    register_tag_transformation(tenant_tags)
    outputs = {}
    with lookups.per_stack():  # the provider's region, account, client config... looked up once, not per job
        for job in jobs:
            component = component_class(job.runtime)(job.name, job, variables[job.name])
            outputs[job.name] = component.outputs
            pulumi.export(job.name, component.outputs)
    return outputs


def pulumi_program(settings: Optional[StackSettings] = None, *, job_files: Optional[tuple[str, ...]] = None) -> None:
    """The program: settings from the stack config unless given; ``job_files`` as in :class:`StackSettings`."""
    try:
        settings = settings or settings_from_config()
        if job_files is not None:
            settings = replace(settings, job_files=job_files)
        build_stack(settings)
    except DativoError as exc:
        raise StackError(exc) from None
