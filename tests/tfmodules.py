"""A module's blocks as Terraform sees them, with its storage submodule inlined (python-hcl2).

The runtime and identity modules call a storage submodule (``module "storage" { source = "../aws-job-storage" }``).
The tests that read a module's resources (docs/parity.md tables, value parity, tags, prevent_destroy)
must see the submodule's resources as the module's own, with every ``var.X`` of the submodule replaced
by the expression the call passes for X (or the submodule's default), and every ``local.Y`` of the
submodule renamed ``local.<call>_<Y>`` (its locals join the module's). Then an expression such as a
bucket's ``labels = var.tags`` reads ``labels = (var.tags)`` in the caller's terms, and Terraform can
evaluate it over the caller's variables. References to the submodule's own resources and data sources
stay as they are (only a provider knows them).
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

import hcl2

from terraform_compat.readme_tables import MODULES_DIR

LOCAL_SOURCE = re.compile(r"^\.\./([a-z0-9-]+)$")
_REFERENCE = re.compile(r"\b(var|local)\.([a-z0-9_]+)\b")
_CALL_KEYS = ("source", "depends_on", "providers")
FILES = ("main.tf", "locals.tf", "outputs.tf", "variables.tf", "moved.tf")


def unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def to_expr(value: Any) -> str:
    """A value as python-hcl2 parsed it (raw) → Terraform expression text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return f"({value[2:-1]})"
        return value  # a quoted string (template): as written
    if isinstance(value, list):
        return "[" + ", ".join(to_expr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{unquote(k)}" = {to_expr(v)}' for k, v in value.items() if not k.startswith("__")) + "}"
    raise TypeError(value)


@cache
def own_blocks(module: str, strip_quotes: bool = False) -> dict[str, list]:
    """The module's own files parsed and merged: block kind → list of entries."""
    options = hcl2.SerializationOptions(strip_string_quotes=True) if strip_quotes else None
    out: dict[str, list] = {}
    for name in FILES:
        path = MODULES_DIR / module / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle, serialization_options=options) if options else hcl2.load(handle)
        for key, value in parsed.items():
            out.setdefault(key, []).extend(value)
    return out


def calls(module: str) -> dict[str, tuple[str, dict]]:
    """The module's calls of sibling modules: call name → (module folder, the call's arguments)."""
    out = {}
    for entry in own_blocks(module).get("module", []):
        for call, body in entry.items():
            match = LOCAL_SOURCE.match(unquote(str(body.get("source", ""))))
            assert match, f"{module}: module {call} does not call a sibling module (source {body.get('source')!r})"
            assert "count" not in body and "for_each" not in body, f"{module}: module {call} has a count; the inlining does not handle it"
            out[unquote(call)] = (match.group(1), {k: v for k, v in body.items() if k not in _CALL_KEYS and not k.startswith("__")})
    return out


def _rewrite(value: Any, replace) -> Any:
    if isinstance(value, str):
        return _REFERENCE.sub(replace, value)
    if isinstance(value, list):
        return [_rewrite(v, replace) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, replace) for k, v in value.items()}
    return value


def _substitution(module: str, call: str, sub: str, args: dict):
    """The function re.sub applies to the submodule's text: var.X → the call's argument, local.Y → local.<call>_Y."""
    defaults = {}
    for entry in own_blocks(sub).get("variable", []):
        for name, body in entry.items():
            if "default" in body:
                defaults[unquote(name)] = body["default"]

    def replace(match: re.Match) -> str:
        kind, name = match.groups()
        if kind == "local":
            return f"local.{call}_{name}"
        if name in args:
            return to_expr(args[name])
        assert name in defaults, f"{module}: module {call} ({sub}) needs {name}, which the call does not pass"
        return to_expr(defaults[name])

    return replace


@cache
def blocks(module: str, strip_quotes: bool = False) -> dict[str, list]:
    """The module's resources, data sources and locals, and those of the modules it calls, in the module's terms
    (raw python-hcl2 strings, or with ``strip_quotes`` the quote-stripped ones). Outputs and variables are the module's own."""
    out = {kind: list(entries) for kind, entries in own_blocks(module, strip_quotes).items()}
    own = {(kind, unquote(t), unquote(n)) for kind in ("resource", "data") for e in out.get(kind, []) for t, named in e.items()
           for n in named if not n.startswith("__")}
    for call, (sub, raw_args) in calls(module).items():
        replace = _substitution(module, call, sub, raw_args)
        inner = blocks(sub, strip_quotes)
        for kind in ("resource", "data"):
            for entry in inner.get(kind, []):
                entry = _rewrite(entry, replace)
                for typ, named in entry.items():
                    # the same lookup in both (data "aws_partition" "current" {}) reads the same thing; anything else is ambiguous
                    clash = [n for n in named if (kind, unquote(typ), unquote(n)) in own and not (kind == "data" and named[n] == _data(out, typ, n))]
                    assert not clash, f"{module}: {kind} {typ}.{clash} is declared by the module and by {sub}"
                out.setdefault(kind, []).append(entry)
        for entry in inner.get("locals", []):
            out.setdefault("locals", []).append({f"{call}_{name}" if not name.startswith("__") else name: _rewrite(value, replace)
                                                 for name, value in entry.items()})
    return out


def _data(parsed: dict, typ: str, name: str) -> Any:
    return next((named[name] for entry in parsed.get("data", []) for t, named in entry.items() if t == typ and name in named), None)


def resources(module: str, kind: str = "resource", strip_quotes: bool = False) -> list[tuple[str, str, dict]]:
    """(type, name, body) of every resource (or ``kind="data"`` source) of the module, its submodules' included."""
    out = []
    for entry in blocks(module, strip_quotes).get(kind, []):
        for typ, named in entry.items():
            if typ.startswith("__"):
                continue
            for name, body in named.items():
                if not name.startswith("__"):
                    out.append((unquote(typ), unquote(name), body))
    return out
