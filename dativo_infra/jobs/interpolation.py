"""``${VAR}`` and ``${VAR:-default}`` in the fields dativo-infra reads.

Only the fields that decide infrastructure are resolved; runner-only fields
such as ``target.connection.nessie.uri: ${NESSIE_URI}`` are the ETL runner's
business and stay exactly as written.
"""
from __future__ import annotations

import os
import re
from typing import Any, Callable, Mapping, Optional

RESOLVED_FIELDS = ("tenant_id", "environment", "asset_path", "finops", "infrastructure")

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class UnsetVariable(Exception):
    def __init__(self, path: tuple, name: str):
        self.path, self.name = path, name


def make_lookup(explicit: Mapping[str, str], environ: Optional[Mapping[str, str]] = None) -> Callable[[str], Optional[str]]:
    """Explicit values (``--var``, stack config) win over the environment."""
    env = os.environ if environ is None else environ

    def lookup(name: str) -> Optional[str]:
        if name in explicit:
            return explicit[name]
        return env.get(name)

    return lookup


def _substitute(text: str, path: tuple, lookup, missing: list) -> str:
    if "${" not in text:  # the common case, kept cheap
        return text

    def replace(match: re.Match) -> str:
        value = lookup(match.group(1))
        if value is None:
            if match.group(2) is not None:
                return match.group(2)
            missing.append(UnsetVariable(path, match.group(1)))
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
