"""Job files → validated :class:`Job` objects, with every problem of a file reported at once."""
from __future__ import annotations

import difflib
import gc
import os
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from pydantic import ValidationError

from ..errors import ConfigError, Problem
from . import interpolation, rules
from .assets import AssetCache
from .files import discover as discover_files
from .files import read_head, read_regular_file
from .models import AssetDefinition, InfrastructureConfig, JobConfig
from .problems import field_path, from_validation_error
from .storage import ANY_TENANT, BucketIndex, BucketUse, bucket_use
from .storage import check as check_storage
from .strict_yaml import Locator, decode, load_mapping

if TYPE_CHECKING:
    from ..stack import StackContext

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
    locator: Optional[Locator] = field(default=None, compare=False, repr=False)  # field path → line and column, for later steps' problems

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
    raw = read_regular_file(path)  # regular files only, bounded: a FIFO, a device or a huge file is a problem, not a hang
    text = decode(path, raw)
    return ParsedFile(path, text, load_mapping(path, text))


def build_job(parsed: ParsedFile, assets: AssetCache, variables: Mapping[str, str], environ: Optional[Mapping[str, str]] = None,
              env_allowed: Iterable[str] = ()) -> Job:
    """Validate one parsed job file; raise ConfigError with all its problems.

    ``${VAR}``: ``variables`` (--var, the stack's vars) first, then from the environment only
    ``DATIVO_*`` names and ``env_allowed`` (the stack's ``dativo-infra:envVars``).
    """
    path, locator = parsed.path, Locator(parsed.text)
    problems: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        line, col = locator.position(loc)
        problems.append(Problem(path, message, field=field_path(loc), line=line, col=col))

    data, unset = interpolation.resolve(parsed.data, interpolation.make_lookup(variables, environ, env_allowed))
    for miss in unset:
        add(miss.path, f"variable ${{{miss.name}}} is not set (pass --tenant or --var TENANT_ID=...)" if miss.name == TENANT_VARIABLE
            else interpolation.unset_message(miss))
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
        try:
            asset_file, asset = assets.find(config.asset_path, path)  # only inside the assets folders or the job's own tree
        except ConfigError as exc:
            for p in exc.problems:
                if p.file == path and p.line is None:  # the job's own asset_path: on its line
                    add(("asset_path",), p.message)
                else:
                    problems.append(p)
    if problems:
        raise ConfigError(problems)
    return Job(path=path, name=job_name(path), config=config, asset=asset, asset_file=asset_file, shared=parsed.is_shared, locator=locator)


def discover(paths: Iterable[str]) -> list[str]:
    """Job files under the given files and folders (:func:`dativo_infra.jobs.files.discover`), without its problems.

    Runs that report problems use :func:`discover_files` and add them (:func:`unreadable_results`).
    """
    return discover_files(paths)[0]


def unreadable_results(problems: Iterable[Problem]) -> list[FileResult]:
    """One failed file result per folder or file that could not be listed: such a run is never a success."""
    return [FileResult(p.file, problems=[p], unreadable=True) for p in problems]


@dataclass(frozen=True)
class Scope:
    """What the stacks' configuration says about a tree of job files.

    ``stack_of(tenant, environment)`` is that stack's context: which shared
    ``${TENANT_ID}`` jobs it runs, its storage rules. ``tenants``: tenants that
    have a stack file but maybe no job file of their own (they still get the
    shared jobs they choose).
    """

    stack_of: Callable[[str, str], StackContext]
    tenants: frozenset[str] = frozenset()
    # storage of files this load does not read (a fleet's stack, a single file): the whole tree binds storage to tenants
    buckets: tuple[BucketUse, ...] = ()
    shared_buckets: frozenset[str] = frozenset()  # declared shared by any stack file (or Pulumi.yaml)

    def variables(self, tenant: object, environment: object, given: Mapping[str, str]) -> tuple[Mapping[str, str], tuple[str, ...]]:
        """``${VAR}`` values for a file of this tenant and environment (the stack's ``vars`` under the command line's),
        and the environment variables its stack lets job files read (``dativo-infra:envVars``)."""
        if not (isinstance(tenant, str) and isinstance(environment, str)) or "${" in tenant + environment:
            return given, ()
        try:
            stack = self.stack_of(tenant, environment)
        except ConfigError:
            return given, ()  # the stack file's own problem is reported once its jobs are kept
        return ({**stack.variables, **given} if stack.variables else given), stack.env_allowed


@dataclass
class FileResult:
    path: str
    jobs: list[Job] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    buckets: list[BucketUse] = field(default_factory=list)  # its storage, for the tree-wide tenant binding
    foreign: bool = False  # another tenant's or environment's file: read for its buckets only
    unreadable: bool = False  # could not be listed or read: a --clean must not delete what it may have exported

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

    @property
    def unreadable(self) -> list[Problem]:
        return [p for f in self.files if f.unreadable for p in f.problems]


def load_jobs(
    paths: Iterable[str],
    *,
    tenant: Optional[str] = None,
    environment: Optional[str] = None,
    variables: Optional[Mapping[str, str]] = None,
    assets_dir: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    scope: Optional[Scope] = None,
) -> LoadResult:
    """Load every job file under ``paths``.

    With ``tenant``, only that tenant's jobs are kept (shared ``${TENANT_ID}``
    files are loaded for it); with ``environment``, only that environment's.
    Without a tenant, a shared file is loaded once for every tenant found in
    the other files (or for ``--var TENANT_ID``). A file that fails keeps all
    its problems; the others still load.
    """
    with paused_gc():
        return _load(paths, tenant, environment, dict(variables or {}), assets_dir, environ, scope)


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


def plain_scope(data: Mapping) -> tuple[Optional[str], Optional[str]]:
    """The tenant and environment a parsed file plainly names (None where it uses ${...} or names none)."""
    return _literal(data.get("tenant_id")), _literal(data.get("environment"))


def _other_scope(parsed: Optional[ParsedFile], text: Optional[str], tenant: Optional[str], environment: Optional[str]) -> bool:
    """True when a file plainly belongs to another tenant or environment than the one asked for.

    Those files are not built (a fleet plans each tenant over one shared tree),
    and their problems are not this tenant's: one broken tenant never fails another.
    """
    if parsed is not None:
        file_tenant, file_environment = plain_scope(parsed.data)
        other_tenant = tenant is not None and file_tenant not in (None, tenant)
        other_env = environment is not None and file_environment not in (None, environment)
        return other_tenant or other_env
    if tenant is not None and text is not None:  # unparseable: read tenant_id off its line if it is plain
        named = named_tenant(text)
        return named is not None and named != tenant
    return False


def named_tenant(text: str) -> Optional[str]:
    """The tenant the one plain ``tenant_id:`` line of an unparseable file's text names; None for none or several."""
    found = _TENANT_LINE.findall(text)
    return found[0] if len(found) == 1 else None


def unparsed_tenant(path: str) -> Optional[str]:
    """:func:`named_tenant` of a file that cannot be parsed (of its first 64 KiB when it is too big to read): whose problem it is."""
    text = _read_text(path)
    return named_tenant(text) if text is not None else None


def _load(paths, tenant, environment, variables, assets_dir, environ, scope) -> LoadResult:
    files, problems = discover_files(paths)
    result = load_files(files, AssetCache(assets_dir), tenant, environment, scoped_variables(variables, tenant), environ, scope)
    result.files.extend(unreadable_results(problems))
    return result


def load_files(files: Iterable[str], assets: AssetCache, tenant, environment, variables, environ, scope: Optional[Scope] = None) -> LoadResult:
    return collect((load_file(path, assets, tenant, environment, variables, environ, scope) for path in files), assets, tenant, environment, variables, environ, scope)


def collect(loaded: Iterable[Optional[tuple[FileResult, Optional[ParsedFile]]]], assets: AssetCache, tenant, environment, variables, environ,
            scope: Optional[Scope] = None) -> LoadResult:
    """:func:`load_file`'s answers, in discovery order, made into one result by :func:`finish`."""
    results: list[FileResult] = []
    shared: list[tuple[FileResult, ParsedFile]] = []
    for one in loaded:
        if one is not None:
            results.append(one[0])
            if one[1] is not None:
                shared.append((one[0], one[1]))
    return finish(results, shared, assets, tenant, environment, variables, environ, scope)


def scoped_variables(variables: Mapping[str, str], tenant: Optional[str]) -> dict[str, str]:
    """The ``${VAR}`` values every file of a run is read with: ``--tenant`` is ``${TENANT_ID}``."""
    return {**variables, TENANT_VARIABLE: tenant} if tenant is not None else dict(variables)


def load_file(path: str, assets: AssetCache, tenant, environment, variables, environ,
              scope: Optional[Scope] = None) -> Optional[tuple[FileResult, Optional[ParsedFile]]]:
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
        result.unreadable = any(p.line is None for p in exc.problems)  # not read at all (a YAML error has a line)
        return result, None
    use = bucket_use_of(parsed, variables, environ)
    result.buckets = [use] if use else []
    if _other_scope(parsed, None, tenant, environment):
        result.foreign = True
        return (result, None) if use else None
    if parsed.is_shared and TENANT_VARIABLE not in variables:
        return result, parsed
    allowed: tuple[str, ...] = ()
    if scope is not None:
        variables, allowed = scope.variables(variables.get(TENANT_VARIABLE) if parsed.is_shared else parsed.data.get("tenant_id"),
                                             parsed.data.get("environment"), variables)
    _build_into(result, parsed, assets, variables, environ, allowed)
    return result, None


def bucket_use_of(parsed: ParsedFile, variables: Mapping[str, str], environ: Optional[Mapping[str, str]] = None) -> Optional[BucketUse]:
    """The file's storage as far as it can be read before building (for the tree-wide tenant binding)."""
    infra = parsed.data.get("infrastructure")
    storage = infra.get("storage") if isinstance(infra, dict) else None
    if not isinstance(storage, dict) or "bucket" not in storage:
        return None
    lookup = interpolation.make_lookup({k: v for k, v in variables.items() if not (parsed.is_shared and k == TENANT_VARIABLE)}, environ)
    resolved, _ = interpolation.resolve({"infrastructure": {"storage": storage}}, lookup)
    tenant = ANY_TENANT if parsed.is_shared else _literal(parsed.data.get("tenant_id"))
    return bucket_use(parsed.path, tenant, resolved["infrastructure"]["storage"])


def finish(results: list[FileResult], shared: list[tuple[FileResult, ParsedFile]], assets: AssetCache, tenant, environment, variables, environ,
           scope: Optional[Scope] = None) -> LoadResult:
    """What needs every file at once: shared files built for each tenant found, duplicate job names, the scope.

    ``results`` are in discovery order. Their jobs need only ``path``, ``name``,
    ``tenant``, ``environment`` and ``shared``, so a parallel run can pass light
    references to jobs built in other processes.
    """
    tenants = sorted({j.tenant for r in results for j in r.jobs if not j.shared} | (scope.tenants if scope and tenant is None else set()))
    for result, parsed in shared:
        if not tenants and not interpolation.resolve({"tenant_id": parsed.data["tenant_id"]}, interpolation.make_lookup(variables, environ))[1]:
            # no tenant known, but ${TENANT_ID:-default} or the environment gives one: the ordinary ${VAR} rules
            _build_into(result, parsed, assets, variables, environ)
            continue
        if not tenants:
            result.problems = [Problem(parsed.path, f"shared job file: tenant_id uses ${{{TENANT_VARIABLE}}} and no tenant is known; "
                                                    f"pass --tenant or --var {TENANT_VARIABLE}=...",
                                       field="tenant_id", line=Locator(parsed.text).position(("tenant_id",))[0], col=1)]
        for name in tenants:
            given: Mapping[str, str] = {**variables, TENANT_VARIABLE: name}
            allowed: tuple[str, ...] = ()
            if scope is not None:
                given, allowed = scope.variables(name, parsed.data.get("environment"), given)
            _build_into(result, parsed, assets, given, environ, allowed)

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
    if scope is not None:
        _apply_scope(results, scope, {job_name(parsed.path) for _, parsed in shared})
    return LoadResult([r for r in results if not r.foreign])


def _apply_scope(results: list[FileResult], scope: Scope, shared_names: set[str]) -> None:
    """Shared jobs only for the stacks that choose them; storage bound to its tenant over the whole tree."""
    index = BucketIndex.of({*(use for r in results for use in r.buckets), *scope.buckets})
    shared_names = shared_names | {job.name for r in results for job in r.jobs if job.shared}
    named: dict[str, tuple[str, ...]] = {}  # stack file → the shared job names it lists
    for result in results:
        kept = []
        for job in result.jobs:
            try:
                stack = scope.stack_of(job.tenant, job.environment)
            except ConfigError as exc:
                result.problems.extend(p for p in exc.problems if p not in result.problems)
                continue
            if isinstance(stack.shared_jobs, tuple):
                named[stack.source] = stack.shared_jobs
            if job.shared and not stack.takes_shared(job.name):
                continue  # this stack does not run it: not an error, and nothing to provision
            use = _job_bucket(job, result)
            problems = check_storage(use, job.tenant, index, root=stack.prefix_root(), shared_buckets={*stack.shared_buckets, *scope.shared_buckets},
                                     allowed_buckets=stack.allowed_buckets, locate=_locate(job)) if use else []
            if problems:
                result.problems.extend(p for p in problems if p not in result.problems)
            else:
                kept.append(job)
        result.jobs = kept
    for source, names in sorted(named.items()):  # a misspelt name would silently drop a job the stack means to run
        unknown = [n for n in names if n not in shared_names]
        if unknown:
            hints = [f"{n!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(n, sorted(shared_names), n=1)) else repr(n)
                     for n in unknown]
            results.append(FileResult(source, problems=[Problem(source, f"names no shared ${{{TENANT_VARIABLE}}} job: {', '.join(hints)}; "
                                                                        f"shared jobs here: {', '.join(sorted(shared_names)) or 'none'}",
                                                                field="dativo-infra:sharedJobs")]))


def _job_bucket(job, result: FileResult) -> Optional[BucketUse]:
    """The job's storage: from its model when it was built here, else (a worker's light reference) as its file was read."""
    config = getattr(job, "config", None)
    if config is None:
        return result.buckets[0] if result.buckets else None
    storage = config.infrastructure.storage if config.infrastructure else None
    if storage is None:
        return None
    return BucketUse(job.path, job.tenant, storage.bucket, storage.prefix, storage.create_bucket)


def _locate(job) -> Callable[[tuple[str, ...]], tuple[Optional[int], Optional[int]]]:
    """Positions in the job's file, asked only for a problem: its locator when built here, else (a worker's light
    reference) the file read again then."""
    def position(field: tuple[str, ...]) -> tuple[Optional[int], Optional[int]]:
        locator = getattr(job, "locator", None)
        if locator is None:
            text = _read_text(job.path)
            locator = Locator(text) if text is not None else None
        return locator.position(field) if locator is not None else (None, None)

    return position


def _read_text(path: str) -> Optional[str]:
    """The text of a file that could not be parsed, to read its tenant line; of a file too big to read, its first 64 KiB."""
    try:
        return read_regular_file(path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    except ConfigError:  # too big (or not a regular file): one huge file must not fail every tenant's run
        head = read_head(path)
        return head.decode("utf-8", errors="ignore") if head is not None else None


def _build_into(result: FileResult, parsed: ParsedFile, assets: AssetCache, variables, environ, env_allowed: Iterable[str] = ()) -> None:
    try:
        result.jobs.append(build_job(parsed, assets, variables, environ, env_allowed))
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
