"""Read exported variables back (``cost --tfvars DIR``): the same flat variables ``terraform export`` wrote, so that
:func:`~dativo_infra.cost.estimate_job` gives Terraform users the numbers ``cost --all`` gives for the job files.

    found = read_tfvars_tree("build/tfvars")      # every *.tfvars and *.tfvars.json under the folder
    for job in found.jobs:
        estimate_job(job.variables, book, file=job.path)

``.tfvars.json`` is read as JSON. ``.tfvars`` is parsed with python-hcl2, which returns string tokens raw
(quotes kept, escapes not decoded: docs/cloud-limits.md §5): each string is decoded here with the rules of the exporter's
HCL writer (``\\" \\\\ \\n \\r \\t \\uXXXX \\UXXXXXXXX``, ``$${`` for ``${``, ``%%{`` for ``%{``), so the values
equal the JSON export's. Only literal values are read: a file with an expression (``var.x``, a template, a
heredoc) is not an export and is refused with its line-free reason. A file that is not an export (no export
header, or for JSON not the generated variables) is skipped and said so, never estimated by guesswork.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, Problem
from ..jobs.files import read_regular_file

__all__ = ["TFVARS_SUFFIXES", "TfvarsJob", "TfvarsTree", "check_types", "decode_hcl_string", "read_tfvars", "read_tfvars_tree"]

TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")
MAX_TFVARS_BYTES = 1024 * 1024  # an exported job is a few KiB
_NUMBER_TOKEN = re.compile(r"^\$\{(-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)\}$")  # python-hcl2 hands 1e+300 back as "${1e+300}"
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class TfvarsJob:
    path: str
    variables: dict[str, Any]


@dataclass
class TfvarsTree:
    jobs: list[TfvarsJob] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    problems: list[Problem] = field(default_factory=list)


class _NotLiteral(ValueError):
    pass


def decode_hcl_string(token: str) -> str:
    """A quoted HCL string token as python-hcl2 returns it (``"a\\"b"``) → its value (``a"b``)."""
    if len(token) < 2 or token[0] != '"' or token[-1] != '"' or "\n" in token:  # python-hcl2 quotes a heredoc too; its raw lines give it away
        raise _NotLiteral(f"{token[:40]!r} is not a literal string")
    text, out, i = token[1:-1], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1: i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt in ("u", "U"):
                width = 4 if nxt == "u" else 8
                digits = text[i + 2: i + 2 + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise _NotLiteral(f"bad escape \\{nxt}{digits}")
                code = int(digits, 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise _NotLiteral(f"\\{nxt}{digits} is not a character")
                out.append(chr(code))
                i += 2 + width
            else:
                raise _NotLiteral(f"unknown escape \\{nxt}")
        elif ch in "$%" and text[i + 1: i + 3] == ch + "{":  # $${ and %%{ are the literal ${ and %{
            out.append(ch + "{")
            i += 3
        elif ch in "$%" and text[i + 1: i + 2] == "{":
            raise _NotLiteral(f"a template ({ch}{{...}}): not a literal value")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _literal(value: Any) -> Any:
    """python-hcl2's raw value → the plain value (strings decoded, map keys decoded, numbers as numbers)."""
    if isinstance(value, str):
        number = _NUMBER_TOKEN.match(value)
        if number:
            return float(number[1]) if any(c in number[1] for c in ".eE") else int(number[1])
        return decode_hcl_string(value)
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {decode_hcl_string(k) if k.startswith('"') else k: _literal(v) for k, v in value.items() if k != "__comments__"}
    return value  # bool, int, float, None


def _parse_hcl(path: str, text: str) -> dict[str, Any]:
    try:
        import hcl2
    except ImportError:  # pragma: no cover - python-hcl2 is a dependency
        raise ConfigError([Problem(path, "reading .tfvars needs python-hcl2 (pip install python-hcl2); or export with --format json")]) from None
    try:
        raw = hcl2.loads(text)
    except Exception as exc:  # the parser raises lark's own errors; none of them is ours to let through
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError([Problem(path, f"not a readable .tfvars file ({first[:200]}); export with --format json to read it exactly")]) from None
    try:
        return {k: _literal(v) for k, v in raw.items() if k != "__comments__"}
    except _NotLiteral as exc:
        raise ConfigError([Problem(path, f"{exc}: cost --tfvars reads exported values only")]) from None


# the variables the estimator reads, and the types the exporter writes them with: a file edited by hand is checked
# here, so a wrong type is a problem naming the variable, never an error inside the arithmetic
_TEXT = ("cloud_provider", "runtime_type", "tenant_id", "environment", "job_name")
_TEXT_OR_NULL = ("region", "schedule_cron", "schedule_timezone", "cpu_architecture", "request_cpu", "request_memory")
_NUMBER = ("max_runtime_seconds", "compute_memory")
_NUMBER_OR_NULL = ("compute_cpu", "cpu_units", "cpu_cores", "ephemeral_storage_gib")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_types(path: str, variables: dict[str, Any]) -> None:
    """ConfigError naming each estimator input whose type is not what ``terraform export`` writes."""
    problems = []

    def wrong(name: str, expected: str) -> None:
        problems.append(Problem(path, f"must be {expected}, got {json.dumps(variables[name])[:80]}", field=name))

    for name in _TEXT:
        if name in variables and not isinstance(variables[name], str):
            wrong(name, "a string")
    for name in _TEXT_OR_NULL:
        if name in variables and not (variables[name] is None or isinstance(variables[name], str)):
            wrong(name, "a string or null")
    for name in _NUMBER:
        if name in variables and not _is_number(variables[name]):
            wrong(name, "a number")
    for name in _NUMBER_OR_NULL:
        if name in variables and not (variables[name] is None or _is_number(variables[name])):
            wrong(name, "a number or null")
    tags = variables.get("tags")
    if "tags" in variables and not (isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())):
        wrong("tags", "a map of strings")
    finops = variables.get("finops_estimate")
    if finops is not None and not (isinstance(finops, dict) and all(v is None or _is_number(v) for v in finops.values())):
        wrong("finops_estimate", "an object of numbers or nulls")
    if problems:
        raise ConfigError(problems)


def read_tfvars(path: str) -> dict[str, Any]:
    """One exported file's variables. Raises ConfigError (the file, what is wrong)."""
    raw = read_regular_file(path, what="tfvars file", max_bytes=MAX_TFVARS_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Problem(path, "not UTF-8 text: not an exported tfvars file")]) from None
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError([Problem(path, f"not JSON: {exc}")]) from None
        if not isinstance(data, dict):
            raise ConfigError([Problem(path, "not a JSON object of variables")])
    else:
        data = _parse_hcl(path, text)
    check_types(path, data)
    return data


def _walk(root: str, problems: list[Problem]) -> list[str]:
    def onerror(exc: OSError) -> None:
        problems.append(Problem(exc.filename or root, f"cannot list this folder: {exc.strerror or exc}"))

    found = []
    for folder, dirs, files in os.walk(root, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(folder, name) for name in sorted(files) if name.endswith(TFVARS_SUFFIXES) and not name.startswith(".")]
    return found


def read_tfvars_tree(root: str) -> TfvarsTree:
    """Every exported ``*.tfvars`` / ``*.tfvars.json`` under ``root`` (a file is read alone), sorted; hidden folders skipped."""
    from terraform_compat.exporter import is_export

    tree = TfvarsTree()
    if os.path.isfile(root):
        paths = [root]
    elif os.path.isdir(root):
        paths = _walk(root, tree.problems)
    else:
        tree.problems.append(Problem(root, "no such file or folder"))
        return tree
    for path in paths:
        if not is_export(path):
            tree.skipped.append({"path": path, "reason": "not written by terraform export (no export header): not estimated"})
            continue
        try:
            tree.jobs.append(TfvarsJob(path, read_tfvars(path)))
        except ConfigError as exc:
            tree.problems += exc.problems
    return tree
