"""A small, exact writer for Terraform variable files (``.tfvars``).

python-hcl2 parses HCL but cannot write tfvars (its ``dumps`` leaves strings
unquoted), so this writes them itself: strings escaped for HCL's template
language (``${`` → ``$${``, ``%{`` → ``%%{``, or Terraform interpolates them),
map keys always quoted, ``=`` aligned the way ``terraform fmt`` aligns them.
Output is checked by Terraform itself in the tests (``terraform console``).
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\Z")
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
INDENT = "  "


# printable ASCII without '"', '\\', '$' or '%': the common case, quoted without a character loop
_PLAIN = re.compile(r"[ !#&-\[\]-~]*")


def quote(text: str, ascii_only: bool = False) -> str:
    """``text`` as an HCL quoted string that Terraform reads back exactly (up to its NFC normalization).

    With ``ascii_only`` every non-ASCII character is written as an escape. Map
    keys use it: ``terraform fmt`` aligns ``=`` by counting grapheme clusters,
    and a key with combining marks (``e`` + U+0301) has fewer of them than
    characters; escaped, a key is plain ASCII and its width is its length.
    """
    if _PLAIN.fullmatch(text):
        return '"' + text + '"'
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif ch in "$%" and i + 1 < n and text[i + 1] == "{":
            out.append(ch + ch + "{")
            i += 1
        elif (ascii_only and not ch.isascii()) or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
        i += 1
    return '"' + "".join(out) + '"'


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written to HCL")
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"cannot write {type(value).__name__} to HCL")


def _expression(value: Any, depth: int) -> str:
    cls = value.__class__
    if cls is str:  # the common shapes first: strings, and maps of strings (tags, labels)
        return quote(value)
    pad = INDENT * (depth + 1)
    if cls is dict and value and all(k.__class__ is str and v.__class__ is str for k, v in value.items()):
        keys = [quote(k, ascii_only=True) for k in value]
        width = max(len(k) for k in keys)
        lines = [f"{pad}{k.ljust(width)} = {quote(v)}" for k, v in zip(keys, value.values(), strict=True)]
        return "{\n" + "\n".join(lines) + "\n" + INDENT * depth + "}"
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = [quote(str(k), ascii_only=True) for k in value]
        lines = _aligned([(k, _expression(v, depth + 1)) for k, v in zip(keys, value.values(), strict=True)], pad)
        return "{\n" + "\n".join(lines) + "\n" + INDENT * depth + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [_expression(v, depth + 1) for v in value]
        if all("\n" not in i for i in items) and sum(len(i) + 2 for i in items) + len(pad) < 100:
            return "[" + ", ".join(items) + "]"
        return "[\n" + ",\n".join(pad + i for i in items) + ",\n" + INDENT * depth + "]"
    return _scalar(value)


def _aligned(pairs: list[tuple[str, str]], pad: str) -> list[str]:
    """``terraform fmt`` aligns ``=`` across a run of single-line attributes; a multi-line value stands alone."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, text in pairs:
        if "\n" in text:
            flush()
            lines.append(f"{pad}{key} = {text}")
        else:
            run.append((key, text))
    flush()
    return lines


def type_of(value: Any) -> str:
    """The narrowest Terraform type constraint that takes ``value`` unchanged (``any`` when mixed)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple, dict)):
        items = list(value.values()) if isinstance(value, dict) else list(value)
        inner = {type_of(v) for v in items} or {"string"}
        kind = "map" if isinstance(value, dict) else "list"
        if len(inner) != 1:
            return "any"  # mixed element types: a tuple or object, taken as written
        (element,) = inner
        return "any" if "any" in element else f"{kind}({element})"
    return "any"


def is_identifier(name: str) -> bool:
    """Whether ``name`` can be written bare as an argument name (a variable, a backend setting)."""
    return bool(_IDENTIFIER.match(name))


def dumps(variables: dict[str, Any], header: str = "") -> str:
    """Render top-level variables as a tfvars document."""
    for name in variables:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid Terraform variable name")
    body = "\n".join(_aligned([(k, _expression(v, 0)) for k, v in variables.items()], ""))
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) if header else ""
    return comment + body + "\n"
