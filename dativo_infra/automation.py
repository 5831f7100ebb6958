"""Deploy tenant stacks from Python: ``preview``, ``up``, ``refresh``, ``destroy`` and ``outputs``.

This is the Pulumi Automation API (``pulumi.automation``) wrapped for
dativo-infra. Each tenant and environment is one stack, named
``<tenant>-<environment>``; its program is :func:`dativo_infra.program.pulumi_program`,
the very function ``pulumi up`` runs from ``__main__.py``, used as an inline
program. Nothing is printed: every operation returns an
:class:`OperationResult` and streams progress through your callbacks.

Quick start::

    from dativo_infra.automation import StackOptions, StackSettings, preview, up

    settings = StackSettings(tenant="acme", environment="prod", jobs_dir="jobs")
    options = StackOptions(config={"aws:region": "us-east-1"})
    result = preview(settings, options, on_output=print)
    print(result.summary)                  # "3 to create, 12 unchanged"
    result = up(settings, options)
    print(result.outputs["stripe-customers-aws"], result.seconds)

What you need
    The ``pulumi`` CLI, on ``PATH`` (or under ``StackOptions.pulumi_root``,
    ``~/.pulumi/bin``). The Automation API drives it; without it every
    operation raises :class:`CliMissingError` at once, before anything is
    created. ``dativo-infra plan`` needs no CLI and works offline.

State backend
    ``StackOptions.backend_url`` if given, else ``PULUMI_BACKEND_URL``, else a
    file backend inside the project: ``<root>/.pulumi-state`` (git-ignored),
    where ``root`` is ``StackOptions.root`` or the current directory. Any
    backend Pulumi supports works: ``s3://bucket``, ``gs://bucket``,
    ``azblob://container``, ``https://api.pulumi.com``.

Secrets
    File and cloud-storage backends encrypt secrets with a passphrase:
    ``PULUMI_CONFIG_PASSPHRASE`` (or ``PULUMI_CONFIG_PASSPHRASE_FILE``) must be
    set, or :class:`PassphraseMissingError` is raised before Pulumi runs. Pulumi
    Cloud manages secrets itself; ``StackOptions.secrets_provider`` (e.g.
    ``awskms://alias/dativo``) replaces the passphrase everywhere.

Workspaces
    Every stack gets its own workspace directory, ``<root>/.pulumi-workspaces/<stack>/``
    (git-ignored), holding its ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``:
    ``create_or_select_stack`` in one shared workspace is not safe in parallel
    (pulumi/pulumi#8186). The operations block until Pulumi is done
    (pulumi/pulumi#17776): run tenants concurrently in separate processes, as
    :mod:`dativo_infra.fleet` does.

Stack configuration
    Set on every call from the arguments: ``dativo-infra:tenant``,
    ``dativo-infra:environment``, ``dativo-infra:jobsDir`` (absolute),
    ``dativo-infra:assetsDir``, ``dativo-infra:image``, ``dativo-infra:vars`` from
    :class:`~dativo_infra.program.StackSettings`, plus ``StackOptions.config``
    for the providers' own keys (``aws:region``, ``gcp:project``,
    ``azure-native:location``...). Keys of ours that are no longer given are removed.

Protected storage
    Buckets a stack creates are ``protect``-ed. :func:`destroy` passes
    ``exclude_protected=True``: everything else is deleted, the protected
    resources stay (and with them the stack), and :attr:`OperationResult.kept`
    lists them. Deleting data is a deliberate, manual act (``pulumi state unprotect``).

Errors
    Every error is an :class:`AutomationError` (a :class:`~dativo_infra.errors.DativoError`,
    so ``.problems`` renders one line each)::

        AutomationError
        ├── CliMissingError         no pulumi CLI (or it cannot run)
        ├── BackendError            a backend URL Pulumi does not support
        ├── PassphraseMissingError  a passphrase-encrypted backend without PULUMI_CONFIG_PASSPHRASE
        ├── StackMissingError       refresh/destroy/outputs of a stack that was never created
        ├── StackLockedError        another update holds the stack's lock
        ├── ProgramFailedError      the program rejected the jobs or config (the job files' own problems)
        └── OperationFailedError    any other failed Pulumi command (its last lines of output)
"""
from __future__ import annotations

import inspect
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .errors import DativoError, Problem

if TYPE_CHECKING:  # at run time, the module __getattr__ below imports it on first use
    from .program import StackSettings

# Importing this module stays light (no Pulumi SDK): the CLI check must answer in a blink. The program,
# and with it the SDK, is imported when an operation runs; StackSettings is re-exported on first use.
NAMESPACE = "dativo-infra"  # the program's config namespace (dativo_infra.program.NAMESPACE)


def __getattr__(name: str):
    if name == "StackSettings":
        from .program import StackSettings

        return StackSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AutomationError", "BackendError", "CliMissingError", "OperationFailedError", "OperationResult",
    "PassphraseMissingError", "ProgramFailedError", "StackLockedError", "StackMissingError",
    "StackOptions", "StackSettings", "PROJECT_NAME", "STATE_DIR", "WORKSPACES_DIR",
    "backend_url", "describe_changes", "destroy", "find_pulumi_cli", "outputs", "preflight", "preview", "refresh",
    "require_pulumi_cli",
    "stack_config", "up", "workspace_dir",
]

PROJECT_NAME = "dativo-infra"
STATE_DIR = ".pulumi-state"
WORKSPACES_DIR = ".pulumi-workspaces"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"
BACKEND_ENV = "PULUMI_BACKEND_URL"
PASSPHRASE_SCHEMES = ("file", "s3", "gs", "azblob")  # DIY backends: secrets need a passphrase or a provider
SERVICE_SCHEMES = ("https", "http")  # Pulumi Cloud or a self-hosted service: secrets handled by the service
INSTALL_HINT = ("install the Pulumi CLI, e.g. `curl -fsSL https://get.pulumi.com | sh` or your package manager "
                "(`brew install pulumi/tap/pulumi`, `choco install pulumi`), and put it on PATH; "
                "`dativo-infra plan` works offline without it")

OnOutput = Callable[[str], Any]
OnEvent = Callable[[Any], Any]


# -- errors -------------------------------------------------------------------------------------------------

class AutomationError(DativoError):
    """Base class of every error of this module; ``stack`` is the stack name (None before one is known)."""

    def __init__(self, message_or_problems, stack: Optional[str] = None):
        self.stack = stack
        if isinstance(message_or_problems, str):
            message_or_problems = [Problem(f"stack {stack}" if stack else "pulumi", message_or_problems)]
        super().__init__(message_or_problems)


class CliMissingError(AutomationError):
    """The ``pulumi`` CLI is not installed (or cannot run); nothing was created."""


class BackendError(AutomationError):
    """The state backend URL is not one Pulumi supports."""


class PassphraseMissingError(AutomationError):
    """A file or cloud-storage backend needs ``PULUMI_CONFIG_PASSPHRASE`` (or a secrets provider)."""


class StackMissingError(AutomationError):
    """The stack does not exist in the backend (run ``up`` first)."""


class StackLockedError(AutomationError):
    """Another update holds the stack's lock (pulumi.automation's ConcurrentUpdateError)."""


class ProgramFailedError(AutomationError):
    """The program failed: ``problems`` are the job files' or the stack config's own problems."""


class OperationFailedError(AutomationError):
    """Pulumi failed for another reason; ``output`` holds the end of what it printed."""

    def __init__(self, message: str, stack: Optional[str] = None, output: str = ""):
        self.output = output
        super().__init__(message, stack)


# -- options and results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StackOptions:
    """Where and how stacks are deployed; one object serves a whole fleet (it pickles).

    ``config``: provider keys such as ``{"aws:region": "us-east-1"}``.
    ``backend_url``: state backend (default: ``PULUMI_BACKEND_URL``, else ``<root>/.pulumi-state``).
    ``secrets_provider``: e.g. ``awskms://alias/x``; without it a passphrase encrypts secrets.
    ``root``: the project folder holding ``.pulumi-state`` and ``.pulumi-workspaces`` (default: cwd).
    ``pulumi_root``: a Pulumi installation folder (its ``bin/pulumi``) instead of the one on PATH.
    """

    config: Mapping[str, str] = field(default_factory=dict)
    backend_url: Optional[str] = None
    secrets_provider: Optional[str] = None
    root: Optional[str] = None
    pulumi_root: Optional[str] = None

    @property
    def root_dir(self) -> Path:
        return Path(self.root or os.getcwd()).resolve()


@dataclass(frozen=True)
class OperationResult:
    """What one operation did. ``changes`` counts resources per operation (``create``, ``same``, ``delete``...)."""

    operation: str
    stack: str
    tenant: str
    environment: str
    changes: dict
    outputs: dict
    seconds: float
    backend: str
    workspace: str
    kept: tuple = ()  # destroy: protected resources left in place ("type::name")
    notes: tuple = ()
    stdout: str = ""

    @property
    def summary(self) -> str:
        return describe_changes(self.changes, preview=self.operation == "preview")

    def as_dict(self) -> dict:
        return {"operation": self.operation, "stack": self.stack, "tenant": self.tenant, "environment": self.environment,
                "ok": True, "changes": dict(self.changes), "summary": self.summary, "outputs": self.outputs,
                "seconds": round(self.seconds, 3), "backend": self.backend, "workspace": self.workspace,
                "kept": list(self.kept), "notes": list(self.notes)}


_VERBS = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete", "same": "unchanged"}
_DONE = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted", "same": "unchanged"}


def describe_changes(changes: Mapping[str, int], preview: bool = False) -> str:
    """``{"create": 3, "same": 12}`` → ``"3 to create, 12 unchanged"`` (or ``"3 created, ..."``)."""
    words = _VERBS if preview else _DONE
    parts = [f"{changes[k]} {words.get(k, k)}" for k in sorted(changes, key=lambda k: (k == "same", k)) if changes[k]]
    return ", ".join(parts) or "no changes"


# -- the CLI, the backend, the environment ------------------------------------------------------------------

def find_pulumi_cli(pulumi_root: Optional[str] = None) -> Optional[str]:
    """Path of the ``pulumi`` executable the Automation API would run, or None.

    With ``pulumi_root``, only ``<pulumi_root>/bin/pulumi``. Otherwise ``pulumi`` on
    ``PATH`` (what ``PulumiCommand()`` runs), then the installer's ``~/.pulumi/bin``
    and ``PulumiCommand.install()``'s ``~/.pulumi/versions/<sdk version>/bin``.
    """
    if pulumi_root:
        path = Path(pulumi_root, "bin", "pulumi")
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which("pulumi")
    if found:
        return found
    home = Path.home() / ".pulumi"
    places = [home / "bin" / "pulumi"]
    try:
        from importlib.metadata import version

        places.append(home / "versions" / version("pulumi") / "bin" / "pulumi")
    except ImportError:
        pass
    return next((str(p) for p in places if p.is_file() and os.access(p, os.X_OK)), None)


def require_pulumi_cli(pulumi_root: Optional[str] = None) -> str:
    """The ``pulumi`` executable, or :class:`CliMissingError` — a file lookup, no subprocess, instant."""
    path = find_pulumi_cli(pulumi_root)
    if path is None:
        where = f"{pulumi_root}/bin/pulumi" if pulumi_root else "`pulumi` on PATH, ~/.pulumi/bin"
        raise CliMissingError(f"the Pulumi CLI was not found (looked for {where}); {INSTALL_HINT}")
    return path


def _pulumi_command(pulumi_root: Optional[str]):
    """A ``PulumiCommand`` for the CLI found; runs ``pulumi version`` once (the SDK checks the minimum version)."""
    import subprocess

    path = require_pulumi_cli(pulumi_root)
    from pulumi import automation as auto

    on_path = pulumi_root is None and shutil.which("pulumi") == path
    root = None if on_path else str(Path(path).parent.parent)
    try:
        return auto.PulumiCommand(root=root)
    except auto.InvalidVersionError as exc:
        raise CliMissingError(f"the Pulumi CLI at {path} is too old for this SDK ({exc}); {INSTALL_HINT}") from None
    except (OSError, subprocess.CalledProcessError) as exc:
        raise CliMissingError(f"the Pulumi CLI at {path} cannot run ({exc}); {INSTALL_HINT}") from None


def backend_url(options: StackOptions) -> str:
    """The state backend: the explicit URL, else ``PULUMI_BACKEND_URL``, else ``file://<root>/.pulumi-state``."""
    url = options.backend_url or os.environ.get(BACKEND_ENV) or (options.root_dir / STATE_DIR).as_uri()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in PASSPHRASE_SCHEMES + SERVICE_SCHEMES:
        raise BackendError(f"backend {url!r} is not supported; use file://PATH, s3://BUCKET, gs://BUCKET, "
                           f"azblob://CONTAINER or https://api.pulumi.com")
    return url


def _environment(url: str, options: StackOptions, stack: Optional[str]) -> dict[str, str]:
    """Variables for the Pulumi CLI; raises PassphraseMissingError when secrets would have no key."""
    env = {BACKEND_ENV: url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    for name in (PASSPHRASE_ENV, PASSPHRASE_FILE_ENV):
        if os.environ.get(name) is not None:  # an empty passphrase is a valid (if weak) passphrase
            env[name] = os.environ[name]
    needs_passphrase = url.split("://", 1)[0] in PASSPHRASE_SCHEMES and not options.secrets_provider
    if needs_passphrase and PASSPHRASE_ENV not in env and PASSPHRASE_FILE_ENV not in env:
        raise PassphraseMissingError(
            f"backend {url} encrypts secrets with a passphrase: set {PASSPHRASE_ENV} (or {PASSPHRASE_FILE_ENV}), "
            f"the same for every run against this backend, or pass a secrets provider (e.g. awskms://alias/NAME)", stack)
    return env


def preflight(options: Optional[StackOptions] = None) -> str:
    """Check, without running anything, that operations can start: the CLI, the backend, the passphrase.

    Returns the backend URL. The checks every operation makes first; a fleet makes them once, up front.
    """
    options = options or StackOptions()
    require_pulumi_cli(options.pulumi_root)
    url = backend_url(options)
    _environment(url, options, None)
    return url


def workspace_dir(stack: str, options: StackOptions) -> Path:
    """``<root>/.pulumi-workspaces/<stack>``: one workspace per stack, never shared."""
    return options.root_dir / WORKSPACES_DIR / stack


def stack_config(settings: StackSettings, options: StackOptions) -> dict[str, Optional[str]]:
    """The stack's config: the context's (its stack file's config passed through, flags applied), then ``options.config``.

    Our own keys that the context leaves unset are ``None``: removed from a stack that had them.
    Folders become absolute: the inline program runs in this process, whose cwd may differ later.
    """
    from .program import stack_config as program_config
    from .stack import SETTINGS

    config: dict[str, Optional[str]] = {f"{NAMESPACE}:{key}": None for key in SETTINGS}
    config.update(program_config(settings))
    config[f"{NAMESPACE}:jobsDir"] = str(Path(settings.jobs_dir).resolve())
    if settings.assets_dir:
        config[f"{NAMESPACE}:assetsDir"] = str(Path(settings.assets_dir).resolve())
    for key, value in options.config.items():
        if ":" not in key:
            raise AutomationError(f"config key {key!r} needs a namespace, e.g. aws:region", settings.stack_name)
        config[key] = str(value)
    return config


# -- running one operation ----------------------------------------------------------------------------------

class _Program:
    """The inline program, remembering the exception it raised (the CLI only reports its text)."""

    def __init__(self):
        self.error: Optional[BaseException] = None
        self.__name__ = "pulumi_program"

    def __call__(self) -> None:
        from .program import pulumi_program

        try:
            pulumi_program()
        except BaseException as exc:
            self.error = exc
            raise


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


@contextmanager
def _translated(stack: str, program: Optional[_Program] = None) -> Iterator[None]:
    """pulumi.automation's errors → ours."""
    from pulumi import automation as auto

    from .program import StackError

    try:
        yield
    except auto.ConcurrentUpdateError as exc:
        raise StackLockedError(
            "another update holds this stack's lock; wait for it to finish. If none is running the lock is stale: "
            "`pulumi cancel` (Pulumi Cloud) or delete the stack's lock file under .pulumi/locks in the backend "
            f"(file/cloud storage). Pulumi said: {_tail(str(exc), 3)}", stack) from None
    except auto.StackNotFoundError:
        raise StackMissingError("the stack does not exist in this backend; run `up` first (or check the backend URL)", stack) from None
    except auto.CommandError as exc:
        error = program.error if program else None
        if isinstance(error, StackError):
            raise ProgramFailedError(error.problems, stack) from None
        if error is not None:
            raise ProgramFailedError(f"the program failed: {type(error).__name__}: {error}", stack) from None
        text = str(exc)
        if "passphrase" in text.lower():
            raise PassphraseMissingError(f"Pulumi could not decrypt the stack's secrets: check {PASSPHRASE_ENV}. "
                                         f"Pulumi said: {_tail(text, 3)}", stack) from None
        raise OperationFailedError(f"pulumi failed: {_tail(text, 3)}", stack, output=_tail(text, 40)) from None
    except FileNotFoundError as exc:  # the CLI vanished between the check and the call
        raise CliMissingError(f"the Pulumi CLI could not be run ({exc}); {INSTALL_HINT}", stack) from None


@dataclass
class _Context:
    stack: Any
    name: str
    url: str
    workspace: Path
    program: _Program


def _open(settings: StackSettings, options: Optional[StackOptions], create: bool, configure: bool = True) -> _Context:
    """Check the CLI first, then backend and passphrase, then select (or create) the stack and set its config."""
    options = options or StackOptions()
    name = settings.stack_name
    command = _pulumi_command(options.pulumi_root)  # first: fails in milliseconds, before anything exists
    url = backend_url(options)
    env = _environment(url, options, name)
    config = stack_config(settings, options)
    from pulumi import automation as auto

    if url == (options.root_dir / STATE_DIR).as_uri():
        (options.root_dir / STATE_DIR).mkdir(parents=True, exist_ok=True)
    workspace = workspace_dir(name, options)
    workspace.mkdir(parents=True, exist_ok=True)
    program = _Program()
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(workspace),
        program=program,
        env_vars=env,
        secrets_provider=options.secrets_provider,
        project_settings=auto.ProjectSettings(name=PROJECT_NAME, runtime="python", backend=auto.ProjectBackend(url=url)),
        pulumi_command=command,
    )
    with _translated(name, program):
        if create:
            stack = auto.create_or_select_stack(name, project_name=PROJECT_NAME, program=program, opts=opts)
        else:
            stack = auto.select_stack(name, project_name=PROJECT_NAME, program=program, opts=opts)
        stale = [k for k, v in config.items() if v is None] if configure else []
        if stale:
            present = set(stack.get_all_config())
            stale = [k for k in stale if k in present]
            if stale:
                stack.remove_all_config(stale)
        if configure:
            stack.set_all_config({k: auto.ConfigValue(value=v) for k, v in config.items() if v is not None})
    return _Context(stack, name, url, workspace, program)


def _changes(value: Optional[Mapping]) -> dict[str, int]:
    return {(k.value if isinstance(k, Enum) else str(k)): int(v) for k, v in (value or {}).items()}


def _plain(values: Optional[Mapping], show_secrets: bool = False) -> dict[str, Any]:
    return {k: ("[secret]" if getattr(v, "secret", False) and not show_secrets else getattr(v, "value", v))
            for k, v in (values or {}).items()}


def _result(operation: str, settings: StackSettings, ctx: _Context, started: float, changes, outputs=None,
            stdout: str = "", kept: tuple = (), notes: tuple = ()) -> OperationResult:
    return OperationResult(operation, ctx.name, settings.tenant, settings.environment, _changes(changes), outputs or {},
                           time.monotonic() - started, ctx.url, str(ctx.workspace), kept, notes, stdout)


def preview(settings: StackSettings, options: Optional[StackOptions] = None, *, on_output: Optional[OnOutput] = None,
            on_event: Optional[OnEvent] = None, parallel: Optional[int] = None) -> OperationResult:
    """What ``up`` would change (creates the stack if it does not exist yet)."""
    started = time.monotonic()
    ctx = _open(settings, options, create=True)
    with _translated(ctx.name, ctx.program):
        res = ctx.stack.preview(on_output=on_output, on_event=on_event, parallel=parallel)
    return _result("preview", settings, ctx, started, res.change_summary, stdout=res.stdout)


def up(settings: StackSettings, options: Optional[StackOptions] = None, *, on_output: Optional[OnOutput] = None,
       on_event: Optional[OnEvent] = None, parallel: Optional[int] = None, show_secrets: bool = False) -> OperationResult:
    """Create or update the stack's resources; ``outputs`` are the stack outputs afterwards (secrets masked)."""
    started = time.monotonic()
    ctx = _open(settings, options, create=True)
    with _translated(ctx.name, ctx.program):
        res = ctx.stack.up(on_output=on_output, on_event=on_event, parallel=parallel)
    return _result("up", settings, ctx, started, res.summary.resource_changes, _plain(res.outputs, show_secrets), res.stdout)


def refresh(settings: StackSettings, options: Optional[StackOptions] = None, *, on_output: Optional[OnOutput] = None,
            on_event: Optional[OnEvent] = None, parallel: Optional[int] = None) -> OperationResult:
    """Read the real state of the stack's resources into its state (the stack must exist)."""
    started = time.monotonic()
    ctx = _open(settings, options, create=False)
    with _translated(ctx.name, ctx.program):
        res = ctx.stack.refresh(on_output=on_output, on_event=on_event, parallel=parallel)
    return _result("refresh", settings, ctx, started, res.summary.resource_changes, stdout=res.stdout)


def destroy(settings: StackSettings, options: Optional[StackOptions] = None, *, on_output: Optional[OnOutput] = None,
            on_event: Optional[OnEvent] = None, parallel: Optional[int] = None) -> OperationResult:
    """Delete the stack's resources except protected storage; ``kept`` lists what stayed."""
    started = time.monotonic()
    ctx = _open(settings, options, create=False)
    kwargs: dict[str, Any] = {"on_output": on_output, "on_event": on_event, "parallel": parallel}
    notes = []
    if "exclude_protected" in inspect.signature(ctx.stack.destroy).parameters:
        kwargs["exclude_protected"] = True
    else:
        notes.append("this pulumi SDK has no exclude_protected: Pulumi refuses to destroy a stack with protected resources")
    with _translated(ctx.name, ctx.program):
        res = ctx.stack.destroy(**kwargs)
        kept = _protected(ctx.stack)
    if kept:
        notes.append(f"{len(kept)} protected resources were kept (storage is never deleted by destroy); "
                     f"the stack remains to track them; to delete them: pulumi state unprotect, then destroy again")
    return _result("destroy", settings, ctx, started, res.summary.resource_changes, stdout=res.stdout, kept=kept, notes=tuple(notes))


def _protected(stack) -> tuple:
    """``type::name`` of the protected resources still in the stack's state."""
    deployment = stack.export_stack().deployment or {}
    return tuple(sorted(
        f"{r.get('type')}::{str(r.get('urn', '')).rsplit('::', 1)[-1]}"
        for r in deployment.get("resources") or [] if r.get("protect")))


def outputs(settings: StackSettings, options: Optional[StackOptions] = None, *, show_secrets: bool = False) -> dict[str, Any]:
    """The stack's current outputs (one per job), secrets masked unless ``show_secrets``."""
    ctx = _open(settings, options, create=False, configure=False)  # a read: the stack's config is left alone
    with _translated(ctx.name, ctx.program):
        return _plain(ctx.stack.outputs(), show_secrets)
