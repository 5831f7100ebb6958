"""What changed in the jobs folder since the sensor last looked: one digest per stack, kept in the sensor's cursor.

A stack's digest covers the content of every file that decides its outcome:
its own job files, the shared ``${TENANT_ID}`` files it takes (its stack file's
``dativo-infra:sharedJobs``), the asset files those jobs name, its stack file,
``Pulumi.yaml`` and its tag policy. So an edit to a shared file changes the
digest of exactly the stacks that take it. Files are hashed by content, so a
``git pull``, a ``git-sync`` or a copy that leaves a file as it was changes nothing.

The cursor is JSON, ``{"version": 1, "seq": N, "stacks": {stack: digest}}``, the
digests a run was last requested for (or the baseline of the first look). A stack
that vanishes keeps its entry: when it comes back unchanged it is not run again.
No Dagster import here.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import ConfigError
from ..fleet import StackRef
from .stacks import FleetStacks

__all__ = ["CURSOR_VERSION", "Cursor", "git_revision", "stack_digests"]

CURSOR_VERSION = 1
DIGEST_CHARS = 16  # 64 bits of SHA-256: enough to tell two versions of one stack's files apart
_ASSET_LINE = re.compile(rb"^\s*asset_path:[ \t]*[\"']?([^\"'#\s]+)", re.MULTILINE)


@dataclass
class Cursor:
    seq: int = 0  # ticks that requested runs: part of each run key, so a later change of a stack is a new run
    stacks: dict[str, str] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({"version": CURSOR_VERSION, "seq": self.seq, "stacks": dict(sorted(self.stacks.items()))}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: Optional[str]) -> Optional[Cursor]:
        """The cursor ``text`` holds; None for none (the first look) or one this version cannot read (a new baseline)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION or not isinstance(data.get("seq"), int):
            return None
        stacks = data.get("stacks")
        if not isinstance(stacks, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in stacks.items()):
            return None
        return cls(data["seq"], dict(stacks))

    def changed(self, digests: dict[str, str]) -> list[str]:
        """Stacks whose files differ from those of their last requested run (or that are new), in key order."""
        return sorted(key for key, digest in digests.items() if self.stacks.get(key) != digest)


class _Files:
    """Each file's content hash and its asset references, read once per look however many stacks share it."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, bytes]] = {}
        self._scopes: dict[str, tuple[Optional[str], Optional[str]]] = {}

    def read(self, path: str) -> tuple[str, bytes]:
        if path not in self._seen:
            from ..jobs.files import read_regular_file

            try:
                raw = read_regular_file(path, "watched file")
                self._seen[path] = (hashlib.sha256(raw).hexdigest(), raw)
            except ConfigError as exc:  # unreadable now: its state is the problem (the stack's run reports it)
                self._seen[path] = ("unreadable:" + hashlib.sha256(str(exc).encode()).hexdigest(), b"")
        return self._seen[path]

    def digest(self, path: str) -> str:
        return self.read(path)[0] if os.path.exists(path) else "absent"

    def scope(self, path: str) -> tuple[Optional[str], Optional[str]]:
        """("shared", its job name) for a shared file; ("broken", the tenant a plain line names, or None); else (None, None)."""
        if path not in self._scopes:
            from ..jobs.loader import job_name, parse_file, unparsed_tenant

            try:
                shared = parse_file(path).is_shared
                self._scopes[path] = ("shared", job_name(path)) if shared else (None, None)
            except ConfigError:
                self._scopes[path] = ("broken", unparsed_tenant(path))  # the loader's rule: whose problem the file is
        return self._scopes[path]


def _takes(kind: Optional[str], name: Optional[str], context: Any, tenant: str) -> bool:
    """Whether the stack runs a file no tenant of its own plainly names (the discovery lists it for every stack).

    A shared file only if the stack file takes that shared job; a file that cannot be
    parsed only if it names no other tenant on a plain ``tenant_id:`` line (the
    loader's rule: another tenant's broken file is not this stack's problem).
    """
    if kind == "shared":
        return context is None or bool(context.takes_shared(name))
    if kind == "broken":
        return name in (None, tenant)
    return True


def _stack_digest(ref: StackRef, project: Any, assets: Any, files: _Files, unscoped: set[str]) -> str:
    try:
        context = project.context(ref.tenant, ref.environment)
    except ConfigError:
        context = None  # a broken stack file: its content is in the digest, the stack's run reports it
    parts = [f"stack-file {files.digest(project.stack_file(ref.tenant, ref.environment))}",
             f"project {files.digest(os.path.join(project.project_dir, 'Pulumi.yaml'))}"]
    if context is not None and context.policy:
        parts.append(f"policy {files.digest(context.policy)}")
    for path in ref.files or ():
        digest, raw = files.read(path)
        if path in unscoped and not _takes(*files.scope(path), context, ref.tenant):
            continue
        parts.append(f"job {path} {digest}")
        for match in _ASSET_LINE.finditer(raw):
            found, _ = assets.resolve(match.group(1).decode("utf-8", "replace"), path)
            if found:
                parts.append(f"asset {found} {files.digest(found)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:DIGEST_CHARS]


def stack_digests(found: FleetStacks, project: Any, assets_dir: Optional[str] = None) -> dict[str, str]:
    """Partition key → the digest of the stack's files (see the module's docstring)."""
    from ..jobs.assets import AssetCache

    files, assets = _Files(), AssetCache(assets_dir)
    tenants: dict[str, set[str]] = {}
    for ref in found.stacks.values():
        for path in ref.files or ():
            tenants.setdefault(path, set()).add(ref.tenant)
    # files listed for several tenants name none plainly: shared or unparseable ones, the only ones read twice here
    unscoped = {path for path, names in tenants.items() if len(names) > 1}
    return {key: _stack_digest(ref, project, assets, files, unscoped) for key, ref in sorted(found.stacks.items())}


_REVISION = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1 or SHA-256 object names


def git_revision(folder: str) -> Optional[str]:
    """The commit checked out where ``folder`` is, when it is in a git repository (for the runs' tags); else None.

    Only a label: what changed is told by the files' content, which a checkout without
    history (an image, a sync) has too. No shell; a git that hangs is given up on.
    """
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None or not os.path.isdir(folder):
        return None
    try:
        done = subprocess.run([git, "-C", folder, "rev-parse", "--verify", "--quiet", "HEAD"], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.SubprocessError):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and _REVISION.match(revision) else None
