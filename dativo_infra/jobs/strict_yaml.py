"""Strict YAML reading: duplicate keys, empty files, bad bytes and alias bombs are errors.

Plain PyYAML keeps the last of two duplicate keys without a word; a job file
with two ``infrastructure`` blocks must fail instead. Parsing uses libyaml's C
loader (the speed floor the benchmarks compare against); positions of fields
are looked up only when an error needs one, by composing the node tree again.

Plain scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1: ``NO``,
``yes``, ``on`` and ``2024-01-01`` are strings; only ``true``/``false`` (also
``True``, ``TRUE``…) are booleans; ``null``, ``~`` and nothing are null;
integers are decimal, ``0o17`` or ``0x1F``; floats include ``.inf`` and ``.nan``.
Numbers remember the text they were written as (:class:`YamlInt`,
:class:`YamlFloat`), so a field that wants text (a tag value) gets ``1.10``,
not ``1.1``. Aliases may expand to at most :data:`MAX_EXTRA_NODES` values more
than the file has characters, so a "billion laughs" file fails at once.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Optional

import yaml

from ..errors import ConfigError, Problem

try:  # libyaml is bundled in PyYAML's wheels; fall back only where it is not
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc, assignment]  # the pure-Python twin of CSafeLoader, not a subclass


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
MAX_DEPTH = 100  # also stops recursive aliases (&a [*a]) from looping
# Without aliases a file holds fewer values than characters; aliases may add this many on top
# (an anchor reused a few hundred times), never the 10⁹ of a "billion laughs" file.
MAX_EXTRA_NODES = 10_000


class YamlInt(int):
    """An integer that remembers how it was written (``0042``, ``0x1F``), for fields that want text."""

    text: str

    def __new__(cls, value: int, text: str) -> YamlInt:
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __reduce__(self):  # pickled to worker processes and back
        return (YamlInt, (int(self), self.text))


class YamlFloat(float):
    """A float that remembers how it was written (``1.10``, ``1e3``), for fields that want text."""

    text: str

    def __new__(cls, value: float, text: str) -> YamlFloat:
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __reduce__(self):
        return (YamlFloat, (float(self), self.text))


def as_written(value: Any) -> Any:
    """The text a YAML number was written as; any other value unchanged."""
    return value.text if isinstance(value, (YamlInt, YamlFloat)) else value


# YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2), for plain scalars only
_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def _core_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _core_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


class _StrictLoader(_BaseLoader):
    """libyaml parses and composes; this builds the Python values in one tight pass.

    PyYAML's generic ``construct_object`` machinery (generators, state for
    recursive structures) costs more than the parse itself on job-sized files;
    plain mappings, sequences and strings are built directly here, every other
    scalar tag by PyYAML's own safe constructors. Duplicate keys are errors.
    """

    yaml_implicit_resolvers: dict = {}  # the YAML 1.2 core schema, filled in below the class
    budget = MAX_EXTRA_NODES  # values left to build; set per file by load_mapping

    def construct_document(self, node):
        return self._build(node, 0)

    def _spend(self, node) -> None:
        self.budget -= len(node.value)
        if self.budget < 0:
            raise yaml.constructor.ConstructorError(
                None, None, "aliases expand to too many values (a 'billion laughs' file?); "
                f"a file may hold at most {MAX_EXTRA_NODES} values more than it has characters", node.start_mark)

    def _build(self, node, depth: int):
        if depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(None, None, f"nesting deeper than {MAX_DEPTH} levels (or a recursive alias)", node.start_mark)
        cls, tag = node.__class__, node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            core = _CORE.get(tag)
            if core is not None:
                return core(node)
            constructor = self.yaml_constructors.get(tag)
            if constructor is None:
                raise yaml.constructor.ConstructorError(None, None, f"unsupported YAML tag {tag!r}", node.start_mark)
            return constructor(self, node)
        if cls is yaml.SequenceNode and tag == _SEQ:
            self._spend(node)
            return [self._build(child, depth + 1) for child in node.value]
        if cls is yaml.MappingNode and tag == _MAP:
            self._spend(node)
            entries, merged = node.value, False
            if any(key.tag == _MERGE for key, _ in entries):
                merged = True
                written = list(entries)
                self.flatten_mapping(node)  # merged keys first, explicit keys override them
                self._reject_duplicates(written)
                entries = node.value
            mapping = {}
            for key_node, value_node in entries:
                key = self._build(key_node, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value, not a list or mapping", key_node.start_mark) from None
                mapping[key] = self._build(value_node, depth + 1)
            if len(mapping) != len(entries) and not merged:
                self._reject_duplicates(entries)
            return mapping
        raise yaml.constructor.ConstructorError(None, None, f"unsupported YAML tag {tag!r}", node.start_mark)

    @staticmethod
    def _reject_duplicates(entries) -> None:
        seen: dict[Any, Any] = {}
        for key_node, _ in entries:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                key = key_node.value
                if key in seen:
                    first = seen[key].start_mark
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first defined on line {first.line + 1}); "
                        "YAML would silently keep only the last one",
                        key_node.start_mark,
                    )
                seen[key] = key_node


def _scalar_error(node, what: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not {what} (YAML 1.2 core schema)", node.start_mark)


def _construct_int(node) -> int:
    if not _CORE_INT.match(node.value):
        raise _scalar_error(node, "an integer: write digits, 0o… or 0x…")
    return YamlInt(_core_int(node.value), node.value)


def _construct_float(node) -> float:
    if _CORE_INT.match(node.value):  # !!float 1
        return YamlFloat(float(_core_int(node.value)), node.value)
    if not _CORE_FLOAT.match(node.value):
        raise _scalar_error(node, "a number")
    return YamlFloat(_core_float(node.value), node.value)


def _construct_bool(node) -> bool:
    if not _CORE_BOOL.match(node.value):
        raise _scalar_error(node, "a boolean: write true or false")
    return node.value.lower() == "true"


def _construct_null(node) -> None:
    if not _CORE_NULL.match(node.value):
        raise _scalar_error(node, "null: write null or ~")
    return None


_CORE = {_INT: _construct_int, _FLOAT: _construct_float, _BOOL: _construct_bool, _NULL: _construct_null}
# the first characters each resolver may start with, as PyYAML's resolver wants them; "" is the empty scalar
for _tag, _regexp, _first in (
    (_BOOL, _CORE_BOOL, "tTfF"),
    (_NULL, _CORE_NULL, ["~", "n", "N", ""]),
    (_INT, _CORE_INT, "-+0123456789"),
    (_FLOAT, _CORE_FLOAT, "-+.0123456789"),
    (_MERGE, re.compile(r"^(?:<<)$"), "<"),
):
    _StrictLoader.add_implicit_resolver(_tag, _regexp, list(_first))


def decode(path: str, raw: bytes) -> str:
    """Bytes → text in Unicode NFC, with the position of the first undecodable byte on failure.

    Terraform reads every string in NFC (docs/cloud-limits.md §6), so every length limit is
    checked on the normalised text, the text Terraform will see.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            [Problem(path, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); job files must be UTF-8 text", line=line, col=col)]
        ) from None
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        raise ConfigError([Problem(path, "file contains a NUL byte; job files must be text", line=line, col=1)])
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def load_mapping(path: str, text: str, what: str = "job file") -> dict:
    """Parse one YAML document that must be a mapping."""
    try:
        loader = _StrictLoader(text)
        try:
            loader.budget = len(text) + MAX_EXTRA_NODES
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(m for m in (exc.context, exc.problem) if m) or str(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        if mark and text.split("\n")[mark.line][mark.column:mark.column + 1] == "\t":  # PyYAML does not name the character
            message += " (a tab: YAML indents with spaces only)"
        raise ConfigError([Problem(path, f"YAML syntax error: {message}", line=line, col=col)]) from None
    except yaml.reader.ReaderError as exc:
        # a character YAML does not allow (e.g. a control character): its position is an offset into the text
        offset = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ConfigError([Problem(path, f"character U+{ord(char):04X} is not allowed in YAML ({exc.reason}); job files must be printable text",
                                   line=line, col=col)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(path, "YAML error: " + " ".join(str(exc).split()))]) from None
    if data is None:
        raise ConfigError([Problem(path, f"{what} is empty; expected a mapping of keys to values", line=1, col=1)])
    if not isinstance(data, dict):
        kind = _KINDS.get(type(data), type(data).__name__)
        raise ConfigError([Problem(path, f"{what} must be a mapping of keys to values, got {kind}", line=1, col=1)])
    return data


_KINDS = {str: "a string", list: "a list", int: "a number", float: "a number", bool: "a boolean", YamlInt: "a number", YamlFloat: "a number"}


class Locator:
    """Finds the line and column of a field path in a YAML text, lazily."""

    def __init__(self, text: str):
        self._text = text
        self._root: Optional[yaml.Node] = None
        self._composed = False

    def position(self, path: Sequence[Any]) -> tuple[Optional[int], Optional[int]]:
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self._text, Loader=_BaseLoader)
            except yaml.YAMLError:
                self._root = None
        node = self._root
        if node is None:
            return None, None
        best = node
        for part in path:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                        best, nxt = key_node, value_node
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
                best = nxt
            if nxt is None:
                break
            node = nxt
        return best.start_mark.line + 1, best.start_mark.column + 1
