"""One stack context: a tenant/environment stack's settings, resolved in one place.

Settings win in this order, highest first:

1. command-line flags (``--image``, ``--var``, ``--jobs-dir``, ``--assets-dir``, ``--policy``);
2. the stack file ``Pulumi.<tenant>-<environment>.yaml`` in the project folder;
3. the defaults of ``Pulumi.yaml`` in the project folder.

``pulumi up`` reads layers 2 and 3 through Pulumi itself (``pulumi.Config``);
:func:`context_from_config` turns either source into the same
:class:`StackContext`, so the CLI, the Automation API, the tfvars export and
the program all see the same image, regions and variables for a stack.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Union

from .errors import ConfigError, Problem

__all__ = [
    "CLOUD_REGION_KEYS", "NAMESPACE", "SETTINGS", "Flags", "Project", "StackContext", "context_from_config",
]

NAMESPACE = "dativo-infra"
# the stack config key of each cloud's region: what its provider uses when a resource names none
CLOUD_REGION_KEYS = {"aws": "aws:region", "gcp": "gcp:region", "azure": "azure-native:location"}
DEFAULT_TENANT_PREFIX = "{tenant}/"
STACK_FILE_LIMIT = 1 << 20  # a stack file is a few lines; anything this big is not one

# the dativo-infra settings a stack may set (Pulumi.yaml documents each)
SETTINGS = ("tenant", "environment", "jobsDir", "assetsDir", "image", "vars", "sharedJobs", "envVars",
            "sharedBuckets", "allowedBuckets", "tenantPrefix", "policy",
            "nodePrices", "monthlyBudget", "budgetSeverity")  # the cost settings: read by dativo_infra.cost.settings

SharedJobs = Union[str, tuple[str, ...]]  # "all", "none" or job names


@dataclass(frozen=True)
class Flags:
    """What the command line says; ``None`` (or empty) means "not given", so the stack files decide."""

    image: Optional[str] = None
    jobs_dir: Optional[str] = None
    assets_dir: Optional[str] = None
    variables: Mapping[str, str] = field(default_factory=dict)
    policy: Optional[str] = None


@dataclass(frozen=True)
class StackContext:
    """Everything a stack's configuration decides about its jobs."""

    tenant: str
    environment: str
    jobs_dir: str = "jobs"
    assets_dir: Optional[str] = None
    image: Optional[str] = None
    variables: Mapping[str, str] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)  # cloud → the stack's region for it
    shared_jobs: SharedJobs = "all"
    env_allowed: tuple[str, ...] = ()
    shared_buckets: tuple[str, ...] = ()
    allowed_buckets: tuple[str, ...] = ()
    tenant_prefix: str = DEFAULT_TENANT_PREFIX
    policy: Optional[str] = None
    # the stack's config as Pulumi keys (namespace:key → value): the Automation API passes it through as it is
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    source: str = "Pulumi.yaml"  # which file said it last, for messages

    @property
    def stack_name(self) -> str:
        return f"{self.tenant}-{self.environment}"

    def region_for(self, cloud: str) -> str:
        return self.regions.get(cloud, "")

    def takes_shared(self, job_name: str) -> bool:
        """Whether this stack runs the shared ``${TENANT_ID}`` job of this name."""
        if self.shared_jobs == "all":
            return True
        if self.shared_jobs == "none":
            return False
        return job_name in self.shared_jobs

    def prefix_root(self) -> str:
        """The prefix every object key of this tenant starts with on a shared bucket (``acme/``)."""
        return self.tenant_prefix.replace("{tenant}", self.tenant).replace("{environment}", self.environment)


def _problem(source: str, key: str, message: str) -> Problem:
    return Problem(source, message, field=key)


def _string_list(value: Any, source: str, key: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # Pulumi stores objects set with `pulumi config set` as JSON text
        try:
            value = json.loads(value) if value.strip().startswith("[") else [v.strip() for v in value.split(",") if v.strip()]
        except ValueError:
            problems.append(_problem(source, key, f"{value!r} is not a list of names"))
            return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(_problem(source, key, "must be a list of names"))
        return ()
    return tuple(value)


def _shared_jobs(value: Any, source: str, problems: list[Problem]) -> SharedJobs:
    key = f"{NAMESPACE}:sharedJobs"
    if value is None:
        return "all"
    if isinstance(value, str) and value.strip() in ("all", "none"):
        return value.strip()
    names = _string_list(value, source, key, problems)
    return tuple(sorted(set(names)))


def _variables(value: Any, source: str, problems: list[Problem]) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        problems.append(_problem(source, f"{NAMESPACE}:vars", "must be an object of NAME: value; set it with "
                                                              f"pulumi config set --path '{NAMESPACE}:vars.NAME' value"))
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


# a container image reference: registry/repository[:tag][@digest], no spaces or shell characters
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,511}\Z")


def _text(value: Any, key: str = "", source: str = "", problems: Optional[list[Problem]] = None) -> Optional[str]:
    """A string setting; a secret (``secure:``), a list or an object is a problem, never its Python text."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    if problems is not None:
        if isinstance(value, dict) and "secure" in value:
            message = ("is a Pulumi secret (secure:), which dativo-infra reads offline and cannot decrypt: set it as plain "
                       "text (an image, a region or a folder is no secret)")
        else:
            message = f"must be a single value, got {type(value).__name__} {value!r}"
        problems.append(_problem(source, key, message))
    return None


def context_from_config(config: Mapping[str, Any], *, tenant: Optional[str] = None, environment: Optional[str] = None,
                        flags: Flags = Flags(), source: str = "stack config") -> StackContext:
    """The context of a stack from its config (``namespace:key`` → value) and the command line's flags.

    ``tenant``/``environment`` fill in what the config does not say (a stack file
    named ``Pulumi.<tenant>-<environment>.yaml`` need not repeat them).
    """
    problems: list[Problem] = []

    def setting(key: str) -> Any:
        return config.get(f"{NAMESPACE}:{key}")

    def text(key: str) -> Optional[str]:
        return _text(config.get(key), key, source, problems)

    tenant = text(f"{NAMESPACE}:tenant") or tenant
    environment = text(f"{NAMESPACE}:environment") or environment
    for key, value in (("tenant", tenant), ("environment", environment)):
        if not value:
            problems.append(_problem(source, f"{NAMESPACE}:{key}", f"missing; run: pulumi config set {NAMESPACE}:{key} <value>"))
    variables = _variables(setting("vars"), source, problems)
    context = StackContext(
        tenant=tenant or "",
        environment=environment or "",
        jobs_dir=flags.jobs_dir or text(f"{NAMESPACE}:jobsDir") or "jobs",
        assets_dir=flags.assets_dir or text(f"{NAMESPACE}:assetsDir"),
        image=flags.image or text(f"{NAMESPACE}:image"),
        variables={**variables, **flags.variables},
        regions={cloud: region for cloud, key in CLOUD_REGION_KEYS.items() if (region := text(key))},
        shared_jobs=_shared_jobs(setting("sharedJobs"), source, problems),
        env_allowed=_string_list(setting("envVars"), source, f"{NAMESPACE}:envVars", problems),
        shared_buckets=_string_list(setting("sharedBuckets"), source, f"{NAMESPACE}:sharedBuckets", problems),
        allowed_buckets=_string_list(setting("allowedBuckets"), source, f"{NAMESPACE}:allowedBuckets", problems),
        tenant_prefix=text(f"{NAMESPACE}:tenantPrefix") or DEFAULT_TENANT_PREFIX,
        policy=flags.policy or text(f"{NAMESPACE}:policy"),
        config=dict(config),
        source=source,
    )
    if not context.tenant_prefix.startswith("{tenant}/") or "${" in context.tenant_prefix or ".." in context.tenant_prefix.split("/"):
        problems.append(_problem(source, f"{NAMESPACE}:tenantPrefix", f"{context.tenant_prefix!r} must start with '{{tenant}}/' (e.g. "
                                                                      "'{tenant}/' or '{tenant}/data/'): one tenant's segment may never "
                                                                      "hold another's ('acme' would match 'acme-eu', 'data/' would hold "
                                                                      "'data/acme/')"))
    if context.image is not None and not IMAGE.match(context.image):
        problems.append(_problem(source if not flags.image else "--image", f"{NAMESPACE}:image" if not flags.image else "image",
                                 f"{context.image!r} is not an image reference (registry/repository[:tag][@digest], no spaces)"))
    if problems:
        raise ConfigError(problems)
    return context


# -- the project folder's files ---------------------------------------------------------------------------------

_STACK_FILE = re.compile(r"^Pulumi\.(.+)\.ya?ml\Z")


def _read_yaml(path: str) -> Any:
    import yaml

    try:
        with open(path, "rb") as handle:
            if not os.path.isfile(path):
                raise ConfigError([Problem(path, "is not a regular file")])
            raw = handle.read(STACK_FILE_LIMIT + 1)
    except OSError as exc:
        raise ConfigError([Problem(path, f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > STACK_FILE_LIMIT:
        raise ConfigError([Problem(path, f"larger than {STACK_FILE_LIMIT} bytes: not a stack file")])
    try:
        return yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([Problem(path, f"not valid YAML: {getattr(exc, 'problem', None) or exc}", line=line, col=1)]) from None


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


def _project_defaults(data: Any, path: str) -> dict[str, Any]:
    """``Pulumi.yaml``'s ``config:``: ``{default: …}`` / ``{value: …}`` objects, or plain values."""
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return {}
    out: dict[str, Any] = {}
    for key, spec in config.items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            out[_namespaced(str(key))] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            out[_namespaced(str(key))] = spec
    return out


def _stack_values(data: Any, path: str) -> dict[str, Any]:
    config = data.get("config") if isinstance(data, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError([Problem(path, "config: must be a mapping of key: value", field="config")])
    return {_namespaced(str(k)): v for k, v in config.items()}


class Project:
    """A project folder (``Pulumi.yaml`` and its stack files) plus the command line's flags.

    ``context(tenant, environment)`` answers each stack once per run.
    """

    def __init__(self, project_dir: str = ".", flags: Flags = Flags()):
        self.project_dir = project_dir
        self.flags = flags
        self._contexts: dict[tuple[str, str], StackContext] = {}
        self._defaults: Optional[dict[str, Any]] = None
        self._stack_files: Optional[dict[tuple[str, str], str]] = None
        self._declared_shared: Optional[frozenset[str]] = None

    @property
    def defaults(self) -> dict[str, Any]:
        if self._defaults is None:
            path = os.path.normpath(os.path.join(self.project_dir, "Pulumi.yaml"))
            self._defaults = _project_defaults(_read_yaml(path), path) if os.path.exists(path) else {}
        return self._defaults

    def stack_file(self, tenant: str, environment: str) -> str:
        return os.path.normpath(os.path.join(self.project_dir, f"Pulumi.{tenant}-{environment}.yaml"))

    def _stack_paths(self) -> list[str]:
        """Every Pulumi.<stack>.yaml of the project folder, whatever it says."""
        try:
            names = sorted(os.listdir(self.project_dir or "."))
        except OSError:
            return []
        return [os.path.normpath(os.path.join(self.project_dir, n)) for n in names if _STACK_FILE.match(n) and n not in ("Pulumi.yaml", "Pulumi.yml")]

    def stack_files(self) -> dict[tuple[str, str], str]:
        """(tenant, environment) → stack file, for every ``Pulumi.<stack>.yaml`` that names its tenant and environment."""
        if self._stack_files is None:
            found: dict[tuple[str, str], str] = {}
            for path in self._stack_paths():
                match = _STACK_FILE.match(os.path.basename(path))
                assert match is not None
                try:
                    values = _stack_values(_read_yaml(path), path)
                except ConfigError:
                    continue  # reported when that stack is asked for
                tenant, environment = values.get(f"{NAMESPACE}:tenant"), values.get(f"{NAMESPACE}:environment")
                if isinstance(tenant, str) and isinstance(environment, str) and f"{tenant}-{environment}" == match.group(1):
                    found[(tenant, environment)] = path
            self._stack_files = found
        return self._stack_files

    def config(self, tenant: str, environment: str) -> tuple[dict[str, Any], str]:
        """The stack's config as Pulumi would merge it (stack file over ``Pulumi.yaml``), and the file it came from."""
        path = self.stack_file(tenant, environment)
        # the stack asked for is the stack: a default tenant or environment in Pulumi.yaml never picks another one
        defaults = {k: v for k, v in self.defaults.items() if k not in (f"{NAMESPACE}:tenant", f"{NAMESPACE}:environment")}
        if not os.path.exists(path):
            return defaults, "Pulumi.yaml"
        values = _stack_values(_read_yaml(path), path)
        for key, expected in (("tenant", tenant), ("environment", environment)):
            given = values.get(f"{NAMESPACE}:{key}")
            if given is not None and given != expected:
                raise ConfigError([Problem(path, f"says {key} {given!r}, but the file is stack {tenant}-{environment}", field=f"{NAMESPACE}:{key}")])
        return {**defaults, **values}, path

    def context(self, tenant: str, environment: str) -> StackContext:
        key = (tenant, environment)
        if key not in self._contexts:
            config, source = self.config(tenant, environment)
            for name in ("policy", "jobsDir", "assetsDir"):  # a stack file's paths are the project folder's (flags: the cwd's)
                value = config.get(f"{NAMESPACE}:{name}")
                if isinstance(value, str) and value and not os.path.isabs(value):
                    config[f"{NAMESPACE}:{name}"] = os.path.normpath(os.path.join(self.project_dir, value))
            context = context_from_config(config, tenant=tenant, environment=environment, flags=self.flags, source=source)
            # a bucket one stack declares shared binds every tenant's prefix on it, whichever stack is run
            declared = self.declared_shared_buckets()
            if not declared <= set(context.shared_buckets):
                context = replace(context, shared_buckets=tuple(sorted({*context.shared_buckets, *declared})))
            self._contexts[key] = context
        return self._contexts[key]

    @property
    def jobs_dir(self) -> str:
        """The project's jobs folder: --jobs-dir, else Pulumi.yaml's dativo-infra:jobsDir, else jobs."""
        default = self.defaults.get(f"{NAMESPACE}:jobsDir")
        return self.flags.jobs_dir or os.path.normpath(os.path.join(self.project_dir, default if isinstance(default, str) and default else "jobs"))

    def declared_shared_buckets(self) -> frozenset[str]:
        """Buckets any stack of the project (or Pulumi.yaml) declares shared: they bind every tenant's prefix.

        Read once per run: every stack's context asks for it.
        """
        if self._declared_shared is not None:
            return self._declared_shared
        found: set[str] = set()
        sources = [self.defaults]
        for path in self._stack_paths():
            try:
                sources.append(_stack_values(_read_yaml(path), path))
            except ConfigError:
                continue  # that stack's own runs report it; one broken stack file does not fail the others
        for values in sources:
            value = values.get(f"{NAMESPACE}:sharedBuckets")
            found.update(_string_list(value, "", "", []) if value is not None else ())
        self._declared_shared = frozenset(found)
        return self._declared_shared


def check_known(tenant: str, environment: str, known: Iterable[tuple[str, str]], where: str) -> None:
    """Exit-2 material for a stack nobody declared: a typo (``acm``) must never create a new stack."""
    known = set(known)
    if (tenant, environment) in known:
        return
    tenants = sorted({t for t, _ in known})
    if tenant in tenants:
        envs = sorted(e for t, e in known if t == tenant)
        raise ConfigError([Problem(where, f"tenant {tenant!r} has no stack for environment {environment!r} (known: {', '.join(envs)}); "
                                          f"add Pulumi.{tenant}-{environment}.yaml or job files for it")])
    close = difflib.get_close_matches(tenant, tenants, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigError([Problem(where, f"unknown tenant {tenant!r}: {hint}known tenants: {', '.join(tenants) or 'none'}. A stack exists when "
                                      f"Pulumi.{tenant}-{environment}.yaml names it or the tenant has job files of its own")])

