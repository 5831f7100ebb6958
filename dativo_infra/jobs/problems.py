"""Pydantic validation errors → one Problem per field, with line, column and a did-you-mean."""
from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from .strict_yaml import Locator


def field_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_of(annotation: Any) -> Optional[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model: Optional[type[BaseModel]] = root
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        model = _model_of(info.annotation) if info else None
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _message(error: dict, root: type) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        parent = tuple(error["loc"][:-1])
        key = str(error["loc"][-1])
        allowed = allowed_keys(root, parent)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key {key!r}{hint} (allowed: {', '.join(sorted(allowed))})"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":  # name the bad value, and the allowed one it is closest to
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        close = difflib.get_close_matches(str(error["input"]), choices, n=1, cutoff=0.6) if isinstance(error["input"], str) else []
        return msg + f", got {error['input']!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("string_type", "int_type", "int_parsing", "float_type", "bool_type", "bool_parsing", "dict_type", "list_type", "model_type"):
        msg += f", got {error['input']!r}" if not isinstance(error.get("input"), (dict, list)) else f", got a {type(error['input']).__name__}"
    return msg


def from_validation_error(file: str, exc: ValidationError, locator: Locator, root: Optional[type] = None, prefix: tuple = ()) -> list[Problem]:
    root = root or _root_of(exc)
    problems, seen = [], set()
    for error in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))
        path = field_path(loc)
        message = _message({**error, "loc": tuple(error["loc"])}, root) if root else error["msg"]
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line, col = locator.position(loc)
        problems.append(Problem(file, message, field=path, line=line, col=col))
    return _merge_union_errors(problems)


# pydantic puts the member type into the loc of union errors ("str", "int", ...)
_UNION_TAGS = {"str", "int", "float", "bool", "function-after", "function-before", "function-plain", "constrained-str"}


def _merge_union_errors(problems: list[Problem]) -> list[Problem]:
    """A union field reports one type error per member; keep one line per field."""
    grouped: dict[str, list[Problem]] = {}
    for p in problems:
        grouped.setdefault(p.field, []).append(p)
    out = []
    for group in grouped.values():
        typed = [p for p in group if "should be a valid" in p.message]
        if len(typed) > 1:
            first = typed[0]
            message = first.message
            for other in typed[1:]:
                message = _join_union(message, other.message)
            group = [Problem(first.file, message, first.field, first.line, first.col)] + [p for p in group if p not in typed]
        out.extend(group)
    return out


def _join_union(a: str, b: str) -> str:
    kinds = []
    for m in (a, b):
        for word in m.replace(",", " ").split():
            if word in ("string", "integer", "number", "boolean") and word not in kinds:
                kinds.append(word)
    got = a.split(", got ")[-1] if ", got " in a else ""
    return f"Input should be a {' or '.join(kinds)}" + (f", got {got}" if got else "")


def _root_of(exc: ValidationError) -> Optional[type]:
    from . import models

    return getattr(models, exc.title, None)
