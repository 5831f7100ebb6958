"""Job files → validated :class:`Job` objects, with every problem of a file reported at once."""
from __future__ import annotations

import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional

from pydantic import ValidationError

from ..errors import ConfigError, Problem, TagError
from ..tags.resolve import tag_set
from . import interpolation, rules
from .assets import AssetCache
from .models import AssetDefinition, InfrastructureConfig, JobConfig
from .problems import field_path, from_validation_error
from .strict_yaml import Locator, decode, load_mapping

TENANT_VARIABLE = "TENANT_ID"
JOB_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = {"assets", ".git", ".venv", "__pycache__", "node_modules"}


@dataclass(frozen=True)
class Job:
    """One validated job: its file, name, model and asset."""

    path: str
    name: str
    config: JobConfig
    asset: Optional[AssetDefinition] = None
    asset_file: Optional[str] = None
    shared: bool = False  # tenant_id came from ${TENANT_ID}: one file, many tenants
    tag_sets: dict = field(default_factory=dict, compare=False, repr=False)  # cloud → TagSet, computed once

    @property
    def clouds(self) -> tuple[str, ...]:
        """Tag formats this job needs: its provider's, plus Kubernetes labels on Kubernetes."""
        infra = self.infrastructure
        if infra is None:
            return ()
        return (infra.provider, "kubernetes") if self.runtime == "kubernetes" else (infra.provider,)

    @property
    def tenant(self) -> str:
        return self.config.tenant_id

    @property
    def environment(self) -> str:
        return self.config.environment

    @property
    def infrastructure(self) -> Optional[InfrastructureConfig]:
        return self.config.infrastructure

    @property
    def runtime(self) -> Optional[str]:
        return rules.effective_runtime(self.infrastructure) if self.infrastructure else None


def job_name(path: str) -> str:
    """The job's name: its file name, made safe for resource names (``stripe_customers.yaml`` → ``stripe-customers``)."""
    stem = Path(path).stem.lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "job"


@dataclass
class ParsedFile:
    path: str
    text: str
    data: dict

    @property
    def is_shared(self) -> bool:
        tenant = self.data.get("tenant_id")
        return isinstance(tenant, str) and "${" + TENANT_VARIABLE in tenant


def parse_file(path: str) -> ParsedFile:
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise ConfigError([Problem(path, "is a directory, expected a job file")]) from None
    except OSError as exc:
        raise ConfigError([Problem(path, f"cannot read file: {exc.strerror}")]) from None
    text = decode(path, raw)
    return ParsedFile(path, text, load_mapping(path, text))


def build_job(parsed: ParsedFile, assets: AssetCache, variables: Mapping[str, str], environ: Optional[Mapping[str, str]] = None) -> Job:
    """Validate one parsed job file; raise ConfigError with all its problems."""
    path, locator = parsed.path, Locator(parsed.text)
    problems: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        line, col = locator.position(loc)
        problems.append(Problem(path, message, field=field_path(loc), line=line, col=col))

    data, unset = interpolation.resolve(parsed.data, interpolation.make_lookup(variables, environ))
    for miss in unset:
        hint = " (pass --tenant or --var TENANT_ID=...)" if miss.name == TENANT_VARIABLE else f" (pass --var {miss.name}=... or set it in the environment)"
        add(miss.path, f"variable ${{{miss.name}}} is not set{hint}")
    if problems:
        raise ConfigError(problems)

    try:
        config = JobConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(from_validation_error(path, exc, locator, root=JobConfig))
        # the identifiers do not depend on the rest of the model: report them too, so all problems come at once
        for key in ("tenant_id", "environment"):
            if isinstance(data.get(key), str) and not any(p.field == key for p in problems):
                for message in rules.check_identifier(data[key], key):
                    add((key,), message)
        raise ConfigError(problems) from None

    for dotted, message in rules.check_job(config):
        add(tuple(int(p) if p.isdigit() else p for p in dotted.split(".")), message)

    asset, asset_file = None, None
    if config.asset_path:
        asset_file, tried = assets.resolve(config.asset_path, path)
        if asset_file is None:
            where = ", ".join(str(p) for p in tried)
            add(("asset_path",), f"asset file {config.asset_path!r} not found; looked in: {where} (set --assets-dir or {ASSETS_ENV_HINT})")
        else:
            try:
                asset = assets.load(asset_file)
            except ConfigError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    job = Job(path=path, name=job_name(path), config=config, asset=asset, asset_file=asset_file, shared=parsed.is_shared)
    for cloud in job.clouds:
        try:
            job.tag_sets[cloud] = tag_set(job, cloud)
        except TagError as exc:
            for p in exc.problems:
                if p.file == path and p.line is None:
                    loc = tuple(p.field.split(".", 2)) if p.field.startswith("infrastructure.tags") else (("finops",) if p.field == "job.finops" else ())
                    line, col = locator.position(loc)
                    p = Problem(p.file, p.message, p.field, line, col)
                if p not in problems:
                    problems.append(p)
    if not problems:
        from ..variables import clashing_variables  # variables.py builds on this package: imported once a job exists

        for name, message in clashing_variables(job):  # needs the tag sets: a variable set holds the formatted tags
            add(("infrastructure", "terraform", "variables", name), message)
    if problems:
        raise ConfigError(problems)
    return job


ASSETS_ENV_HINT = "DATIVO_ASSETS_DIR"


def discover(paths: Iterable[str]) -> list[str]:
    """Job files under the given files and folders (recursively), sorted; ``assets/`` folders are skipped.

    A file reached twice (``jobs/`` and ``jobs/acme/x.yaml``) is listed once.
    """
    found: list[str] = []
    for given in paths:
        if os.path.isdir(given):
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(JOB_SUFFIXES))
        else:
            found.append(given)
    seen: set[str] = set()
    unique = []
    for path in found:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


@dataclass
class FileResult:
    path: str
    jobs: list[Job] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class LoadResult:
    files: list[FileResult]

    @property
    def jobs(self) -> list[Job]:
        return [j for f in self.files for j in f.jobs]

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


def load_jobs(
    paths: Iterable[str],
    *,
    tenant: Optional[str] = None,
    environment: Optional[str] = None,
    variables: Optional[Mapping[str, str]] = None,
    assets_dir: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> LoadResult:
    """Load every job file under ``paths``.

    With ``tenant``, only that tenant's jobs are kept (shared ``${TENANT_ID}``
    files are loaded for it); with ``environment``, only that environment's.
    Without a tenant, a shared file is loaded once for every tenant found in
    the other files (or for ``--var TENANT_ID``). A file that fails keeps all
    its problems; the others still load.
    """
    with paused_gc():
        return _load(paths, tenant, environment, dict(variables or {}), assets_dir, environ)


@contextmanager
def paused_gc():
    """Loading allocates many objects and frees none in cycles: the cyclic GC would only rescan them, again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _literal(value: object) -> Optional[str]:
    return value if isinstance(value, str) and "${" not in value else None


_TENANT_LINE = re.compile(r"^tenant_id:[ \t]*[\"']?([a-z0-9-]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


def _other_scope(parsed: Optional[ParsedFile], text: Optional[str], tenant: Optional[str], environment: Optional[str]) -> bool:
    """True when a file plainly belongs to another tenant or environment than the one asked for.

    Those files are not built (a fleet plans each tenant over one shared tree),
    and their problems are not this tenant's: one broken tenant never fails another.
    """
    if parsed is not None:
        other_tenant = tenant is not None and _literal(parsed.data.get("tenant_id")) not in (None, tenant)
        other_env = environment is not None and _literal(parsed.data.get("environment")) not in (None, environment)
        return other_tenant or other_env
    if tenant is not None and text is not None:  # unparseable: read tenant_id off its line if it is plain
        found = _TENANT_LINE.findall(text)
        return len(found) == 1 and found[0] != tenant
    return False


def _load(paths, tenant, environment, variables, assets_dir, environ) -> LoadResult:
    return load_files(discover(paths), AssetCache(assets_dir), tenant, environment, scoped_variables(variables, tenant), environ)


def load_files(files: Iterable[str], assets: AssetCache, tenant, environment, variables, environ) -> LoadResult:
    return collect((load_file(path, assets, tenant, environment, variables, environ) for path in files), assets, tenant, environment, variables, environ)


def collect(loaded: Iterable[Optional[tuple[FileResult, Optional[ParsedFile]]]], assets: AssetCache, tenant, environment, variables, environ) -> LoadResult:
    """:func:`load_file`'s answers, in discovery order, made into one result by :func:`finish`."""
    results: list[FileResult] = []
    shared: list[tuple[FileResult, ParsedFile]] = []
    for one in loaded:
        if one is not None:
            results.append(one[0])
            if one[1] is not None:
                shared.append((one[0], one[1]))
    return finish(results, shared, assets, tenant, environment, variables, environ)


def scoped_variables(variables: Mapping[str, str], tenant: Optional[str]) -> dict[str, str]:
    """The ``${VAR}`` values every file of a run is read with: ``--tenant`` is ``${TENANT_ID}``."""
    return {**variables, TENANT_VARIABLE: tenant} if tenant is not None else dict(variables)


def load_file(path: str, assets: AssetCache, tenant, environment, variables, environ) -> Optional[tuple[FileResult, Optional[ParsedFile]]]:
    """Read and build one file on its own; ``None`` when it plainly belongs to another tenant or environment.

    A shared ``${TENANT_ID}`` file with no tenant given is parsed but not built:
    it comes back as the second item, for :func:`finish` to build once per tenant.
    """
    result = FileResult(path)
    try:
        parsed = parse_file(path)
    except ConfigError as exc:
        if _other_scope(None, _read_text(path), tenant, environment):
            return None
        result.problems = exc.problems
        return result, None
    if _other_scope(parsed, None, tenant, environment):
        return None
    if parsed.is_shared and TENANT_VARIABLE not in variables:
        return result, parsed
    _build_into(result, parsed, assets, variables, environ)
    return result, None


def finish(results: list[FileResult], shared: list[tuple[FileResult, ParsedFile]], assets: AssetCache, tenant, environment, variables, environ) -> LoadResult:
    """What needs every file at once: shared files built for each tenant found, duplicate job names, the scope.

    ``results`` are in discovery order. Their jobs need only ``path``, ``name``,
    ``tenant``, ``environment`` and ``shared``, so a parallel run can pass light
    references to jobs built in other processes.
    """
    tenants = sorted({j.tenant for r in results for j in r.jobs if not j.shared})
    for result, parsed in shared:
        if not tenants and not interpolation.resolve({"tenant_id": parsed.data["tenant_id"]}, interpolation.make_lookup(variables, environ))[1]:
            # no tenant known, but ${TENANT_ID:-default} or the environment gives one: the ordinary ${VAR} rules
            _build_into(result, parsed, assets, variables, environ)
            continue
        if not tenants:
            result.problems = [Problem(parsed.path, f"shared job file: tenant_id uses ${{{TENANT_VARIABLE}}} and no tenant is known; pass --tenant or --var {TENANT_VARIABLE}=...", field="tenant_id", line=Locator(parsed.text).position(("tenant_id",))[0], col=1)]
        for name in tenants:
            _build_into(result, parsed, assets, {**variables, TENANT_VARIABLE: name}, environ)

    # the job name comes from the file name: two jobs of one tenant and environment with the same name
    # would create the same resources and export to the same file
    owners: dict[tuple[str, str, str], str] = {}
    for result in results:
        kept = []
        for job in result.jobs:
            key = (job.tenant, job.environment, job.name)
            if key in owners:
                result.problems.append(Problem(job.path, f"job {job.name!r} of tenant {job.tenant} ({job.environment}) is already defined by "
                                                         f"{owners[key]}; both would create the same resources and export to the same file: rename one file"))
            else:
                owners[key] = job.path
                kept.append(job)
        result.jobs = kept
    for result in results:
        result.jobs = [j for j in result.jobs if (tenant is None or j.tenant == tenant) and (environment is None or j.environment == environment)]
    return LoadResult(results)


def _read_text(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _build_into(result: FileResult, parsed: ParsedFile, assets: AssetCache, variables, environ) -> None:
    try:
        result.jobs.append(build_job(parsed, assets, variables, environ))
    except ConfigError as exc:
        result.problems.extend(p for p in exc.problems if p not in result.problems)


def load_job(path: str, **kwargs) -> Job:
    """Load exactly one job file; raise ConfigError with all its problems."""
    if os.path.isdir(path):  # load_jobs would read the whole folder and this would return its first job
        raise ConfigError([Problem(path, "is a folder; give one job file")])
    result = load_jobs([path], **kwargs)
    if not result.ok:
        raise ConfigError(result.problems)
    if not result.jobs:
        raise ConfigError([Problem(path, "no job for the requested tenant/environment in this file")])
    return result.jobs[0]
