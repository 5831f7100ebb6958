"""``${VAR}`` and ``${VAR:-default}`` in the fields dativo-infra reads.

Only the fields that decide infrastructure are resolved; runner-only fields
such as ``target.connection.nessie.uri: ${NESSIE_URI}`` are the ETL runner's
business and stay exactly as written.

A job file must not be able to read the whole process environment (a tag
``x: ${AWS_SECRET_ACCESS_KEY}`` would publish it), so :func:`make_lookup` takes,
in this order: explicit values (``--var``, the stack config), then from the
environment only names starting with ``DATIVO_`` or listed in ``env_allowed``
(the stack config ``dativo-infra:envVars``). Any other name is unset; when the
environment does hold it, its :class:`UnsetVariable` has ``blocked=True`` so the
message can say how to allow it (:func:`unset_message`).
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional

RESOLVED_FIELDS = ("tenant_id", "environment", "asset_path", "finops", "infrastructure")

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


ENV_PREFIX = "DATIVO_"
ENV_VARS_CONFIG = "dativo-infra:envVars"


class UnsetVariable(Exception):
    """A ``${NAME}`` with no value; ``blocked`` when the environment holds it but may not give it."""

    def __init__(self, path: tuple, name: str, blocked: bool = False):
        self.path, self.name, self.blocked = path, name, blocked


def env_allowed_name(name: str, env_allowed: Iterable[str] = ()) -> bool:
    """Whether ``${name}`` may be read from the environment."""
    return name.startswith(ENV_PREFIX) or name in env_allowed


class Lookup:
    """``lookup(name)`` → the value or None; ``blocked(name)`` tells an unset name from one the environment may not give."""

    def __init__(self, explicit: Mapping[str, str], environ: Mapping[str, str], env_allowed: frozenset[str]):
        self._explicit, self._environ, self._allowed = explicit, environ, env_allowed

    def __call__(self, name: str) -> Optional[str]:
        if name in self._explicit:
            return self._explicit[name]
        if env_allowed_name(name, self._allowed):
            return self._environ.get(name)
        return None

    def blocked(self, name: str) -> bool:
        return name not in self._explicit and not env_allowed_name(name, self._allowed) and name in self._environ


def make_lookup(explicit: Mapping[str, str], environ: Optional[Mapping[str, str]] = None, env_allowed: Iterable[str] = ()) -> Lookup:
    """Explicit values (``--var``, stack config) win; the environment gives only ``DATIVO_*`` and ``env_allowed`` names."""
    return Lookup(explicit, os.environ if environ is None else environ, frozenset(env_allowed))


def unset_message(miss: UnsetVariable) -> str:
    """The message for an unset ``${NAME}``, saying how to set or allow it."""
    if miss.blocked:
        return (f"variable ${{{miss.name}}} is not allowed from the environment: pass --var {miss.name}=... "
                f"or list it in the stack config {ENV_VARS_CONFIG} (names starting with {ENV_PREFIX} are always allowed)")
    return (f"variable ${{{miss.name}}} is not set (pass --var {miss.name}=...; from the environment only {ENV_PREFIX}* names "
            f"and those listed in the stack config {ENV_VARS_CONFIG} are read)")


def _substitute(text: str, path: tuple, lookup, missing: list) -> str:
    if "${" not in text:  # the common case, kept cheap
        return text

    def replace(match: re.Match) -> str:
        value = lookup(match.group(1))
        if value is None:
            if match.group(2) is not None:
                return match.group(2)
            blocked = getattr(lookup, "blocked", None)
            missing.append(UnsetVariable(path, match.group(1), bool(blocked and blocked(match.group(1)))))
            return match.group(0)
        return value

    return _REFERENCE.sub(replace, text)


def _walk(value: Any, path: tuple, lookup, missing: list) -> Any:
    if isinstance(value, str):
        return _substitute(value, path, lookup, missing)
    if isinstance(value, dict):
        return {k: _walk(v, path + (k,), lookup, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path + (i,), lookup, missing) for i, v in enumerate(value)]
    return value


def resolve(data: dict, lookup: Callable[[str], Optional[str]]) -> tuple[dict, list[UnsetVariable]]:
    """Return a copy of ``data`` with references resolved, and the unset ones."""
    missing: list[UnsetVariable] = []
    out = dict(data)
    for key in RESOLVED_FIELDS:
        value = out.get(key)
        # repr is one C call over the whole subtree; most fields hold no reference at all
        if value is not None and "${" in (value if isinstance(value, str) else repr(value)):
            out[key] = _walk(value, (key,), lookup, missing)
    return out, missing
