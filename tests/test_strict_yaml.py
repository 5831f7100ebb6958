"""Strict YAML: the YAML 1.2 core schema for plain scalars, numbers kept as written, alias bombs, NFC."""
from __future__ import annotations

import math
import pickle
import time
import unicodedata
from pathlib import Path

import pytest

from dativo_infra.errors import ConfigError
from dativo_infra.jobs import strict_yaml
from dativo_infra.jobs.models import InfrastructureConfig
from dativo_infra.jobs.strict_yaml import MAX_EXTRA_NODES, YamlFloat, YamlInt, as_written, decode, load_mapping

from .conftest import JOBS

CORE = [
    # YAML 1.1 would make these booleans, numbers or dates; YAML 1.2 core keeps them text
    ("NO", "NO"), ("no", "no"), ("yes", "yes"), ("Yes", "Yes"), ("on", "on"), ("OFF", "OFF"), ("y", "y"),
    ("2024-01-01", "2024-01-01"), ("1:20", "1:20"), ("1_000", "1_000"), ("0b101", "0b101"), ("+.5.", "+.5."),
    ("nil", "nil"), ("NaN", "NaN"), ("inf", "inf"), (".Inf", math.inf), ("0X1F", "0X1F"), ("0o8", "0o8"),
    # the core schema's own values
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
    ("null", None), ("Null", None), ("~", None), ("", None),
    ("42", 42), ("-7", -7), ("+3", 3), ("0123", 123), ("0o17", 15), ("0x1F", 31), ("0xff", 255),
    ("1.10", 1.1), ("-.5", -0.5), ("1e3", 1000.0), ("1.", 1.0), ("2.5E-1", 0.25), (".inf", math.inf), ("-.INF", -math.inf),
]


@pytest.mark.parametrize("text, expected", CORE, ids=[repr(t) for t, _ in CORE])
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text, expected):
    value = load_mapping("f.yaml", f"v: {text}\n")["v"]
    assert value == expected and type(value) in (type(expected), YamlInt, YamlFloat)
    if isinstance(expected, bool):
        assert type(value) is bool


def test_nan_is_a_float_and_quoted_scalars_are_text():
    data = load_mapping("f.yaml", "a: .nan\nb: '1.10'\nc: \"true\"\nd: !!str 0x1F\n")
    assert math.isnan(data["a"]) and data["b"] == "1.10" and data["c"] == "true" and data["d"] == "0x1F"


def test_numbers_remember_how_they_were_written():
    data = load_mapping("f.yaml", "{country: NO, version: 1.10, code: 0x1F, on: yes, zip: 0042}")
    assert data == {"country": "NO", "version": 1.1, "code": 31, "on": "yes", "zip": 42}
    assert [as_written(data[k]) for k in ("version", "code", "zip")] == ["1.10", "0x1F", "0042"]
    assert pickle.loads(pickle.dumps(data["version"])).text == "1.10"  # crosses to worker processes intact


def test_tag_values_are_the_text_as_written():
    data = load_mapping("f.yaml", "provider: aws\nruntime: {type: ecs}\ntags: {version: 1.10, code: 0x1F, country: NO, zip: 0042, flag: true}\n")
    tags = InfrastructureConfig.model_validate(data).tags
    assert tags == {"version": "1.10", "code": "0x1F", "country": "NO", "zip": "0042", "flag": "true"}


@pytest.mark.parametrize("tag, text", [("!!int", "1_000"), ("!!bool", "yes"), ("!!null", "none"), ("!!float", "abc")])
def test_an_explicit_tag_with_a_value_outside_the_core_schema_is_an_error(tag, text):
    with pytest.raises(ConfigError) as exc:
        load_mapping("f.yaml", f"a: 1\nb: {tag} {text}\n")
    (problem,) = exc.value.problems
    assert (problem.file, problem.line) == ("f.yaml", 2) and "YAML 1.2 core schema" in problem.message


def test_merge_keys_still_work():
    assert load_mapping("f.yaml", "a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n")["b"] == {"x": 1, "y": 2}


BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_fails_fast_naming_file_and_line():
    started = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        load_mapping("bomb.yaml", BOMB)
    assert time.monotonic() - started < 1
    (problem,) = exc.value.problems
    assert problem.file == "bomb.yaml" and problem.line is not None and "billion laughs" in problem.message


def test_a_mapping_bomb_fails_too():
    text = "a: &a {k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v}\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} {{{', '.join(f'k{j}: *{chr(97 + i)}' for j in range(8))}}}\n" for i in range(8))
    with pytest.raises(ConfigError, match="billion laughs"):
        load_mapping("bomb.yaml", text)


def test_normal_files_are_far_below_the_alias_budget(monkeypatch):
    """Every example job and asset spends only a fraction of its budget: the limit never bites a real file."""
    spent = []
    real_load = strict_yaml._StrictLoader.get_single_data

    def measure(self):
        start = self.budget
        try:
            return real_load(self)
        finally:
            spent.append((start - MAX_EXTRA_NODES, start - self.budget))  # (characters, values built)

    monkeypatch.setattr(strict_yaml._StrictLoader, "get_single_data", measure)
    files = sorted(Path(JOBS).rglob("*.yaml"))
    for path in files:
        load_mapping(str(path), decode(str(path), path.read_bytes()))
    assert len(spent) == len(files) > 10
    assert all(values < characters / 2 for characters, values in spent)


def test_heavy_but_reasonable_anchor_reuse_is_fine():
    text = "base: &b {cpu: 1, memory: 2048, tags: {a: b, c: d}}\n" + "".join(f"j{i}: *b\n" for i in range(500))
    assert len(load_mapping("f.yaml", text)) == 501


def test_decode_normalises_to_nfc():
    decomposed = "tags: {k: \"e\u0301\u0958\"}\n"  # e + combining acute; U+0958 is not allowed in NFC
    text = decode("f.yaml", decomposed.encode())
    assert text == unicodedata.normalize("NFC", decomposed) and "\u00e9" in text and "\u0915\u093c" in text


def test_a_tab_in_the_indentation_is_named():
    with pytest.raises(ConfigError) as exc:
        load_mapping("f.yaml", "a:\n\tb: 1\n")
    (problem,) = exc.value.problems
    assert problem.line == 2 and "a tab: YAML indents with spaces only" in problem.message
