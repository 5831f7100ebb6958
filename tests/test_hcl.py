"""The tfvars writer: escaping per the HCL spec, read back by Terraform itself (docs/cloud-limits.md §5).

Expected escapes come from the HCL native syntax spec (quoted templates:
``\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN``, and ``$${`` / ``%%{`` for a literal
``${`` / ``%{``). The honest check is Terraform's console reading the file
against ``variable`` blocks and giving the values back as JSON.
"""
from __future__ import annotations

import math
import re

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import LarkError

from terraform_compat import hcl

from .tfconsole import declarations, fmt_check, nfc, read_back, terraform_missing

ROUND_TRIP = settings(derandomize=True, database=None, deadline=None, max_examples=30)

# python-hcl2 8.x mis-lexes an escaped template sequence that follows a '$', '%' or an escaped backslash
# ("$$${", "%%%{", "\\$${"), which Terraform reads correctly (see TRICKY below): it only parses the rest.
HCL2_MISREADS = re.compile(r"(\$\$\$|%%%|\\\\\$\$)\{")


def hcl2_parses(text: str) -> dict:
    return hcl2.loads(HCL2_MISREADS.sub("x", text))

QUOTES = [
    ("plain", '"plain"'),
    ("", '""'),
    ('say "hi"', '"say \\"hi\\""'),
    ("C:\\temp\\new", '"C:\\\\temp\\\\new"'),
    ("line1\nline2", '"line1\\nline2"'),
    ("a\tb", '"a\\tb"'),
    ("a\r\nb", '"a\\r\\nb"'),
    ("${var.secret}", '"$${var.secret}"'),
    ("%{ if true }x%{ endif }", '"%%{ if true }x%%{ endif }"'),
    ("$${", '"$$${"'),
    ("cost: $5, 100%", '"cost: $5, 100%"'),  # a lone $ or % is literal
    ("{}", '"{}"'),
    ("\x00\x01\x1b\x7f", '"\\u0000\\u0001\\u001b\\u007f"'),
    ("\u2028\u2029", '"\\u2028\\u2029"'),
    ("zero\u200bwidth", '"zero\\u200bwidth"'),
    ("café", '"café"'),
    ("日本語", '"日本語"'),
    ("😀", '"😀"'),
]


@pytest.mark.parametrize("text,quoted", QUOTES, ids=[repr(t)[:30] for t, _ in QUOTES])
def test_quote(text, quoted):
    assert hcl.quote(text) == quoted


def test_python_hcl2_misreads_are_only_those():
    for text in ("$${", "%%{", "\\${"):
        quoted = hcl.dumps({"x": text})
        with pytest.raises(LarkError):  # python-hcl2's parser (lark) rejects it
            hcl2.loads(quoted)
        assert hcl2_parses(quoted) == {"x": '"x"'}
    assert hcl2.loads(hcl.dumps({"x": "${y} %{z}"})) == {"x": '"$${y} %%{z}"'}


def test_quote_ascii_only_escapes_every_non_ascii_character():
    assert hcl.quote("é😀a", ascii_only=True) == '"\\u00e9\\U0001f600a"'


def test_dumps_types_and_layout():
    text = hcl.dumps({"a_string": "x", "n": 3, "f": 0.5, "big": 10**20, "neg": -7, "yes": True, "no": False, "nothing": None,
                      "names": ["a", "b"], "empty_list": [], "empty_map": {}, "labels": {"k": "v", "longer-key": "w"}},
                     header="first line\nsecond line")
    assert text == (
        "# first line\n"
        "# second line\n"
        'a_string   = "x"\n'
        "n          = 3\n"
        "f          = 0.5\n"
        "big        = 100000000000000000000\n"
        "neg        = -7\n"
        "yes        = true\n"
        "no         = false\n"
        "nothing    = null\n"
        'names      = ["a", "b"]\n'
        "empty_list = []\n"
        "empty_map  = {}\n"
        "labels = {\n"
        '  "k"          = "v"\n'
        '  "longer-key" = "w"\n'
        "}\n"
    )


@pytest.mark.parametrize("name", ["1abc", "my var", "a.b", "", "abc\n", "é"])
def test_dumps_rejects_names_that_are_not_identifiers(name):
    with pytest.raises(ValueError, match="is not a valid Terraform variable name"):
        hcl.dumps({name: 1})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_dumps_rejects_non_finite_numbers(value):
    with pytest.raises(ValueError):
        hcl.dumps({"x": value})


def test_dumps_rejects_other_objects():
    with pytest.raises(TypeError):
        hcl.dumps({"x": object()})


# --- Terraform reads back exactly what was written -----------------------------------------------

TRICKY = ["plain", "", 'say "hi"', "C:\\temp\\new", "line1\nline2\n", "\ttab", "${var.secret}", "%{ if true }x%{ endif }", "$${", "%%{",
          "$$${x}", "$", "%", "$}", "{", "\\${", "\x00\x07\x7f", "\u2028", "\ufeff", "café", "e\u0301", "日本語", "😀", "\U0010ffff",
          "<>&", "a\\nb", "trailing\\", "#not a comment", "// nor this", "<<EOT\nheredoc?\nEOT"]


def typed_values():
    return {
        "s": "a \"quoted\" ${string}\nwith\ttabs",
        "n_int": 42,
        "n_neg": -3,
        "n_float": 0.25,
        "n_big": 123456789012,
        "b_true": True,
        "b_false": False,
        "l_strings": TRICKY,
        "l_numbers": [1, 2.5, -3],
        "l_empty": [],
        "m_strings": {"Owner": "data-team@acme.com", "dativo:tenant": "acme", "${k}": "%{v}", "café": "é", "e\u0301x": "y", "": "empty key"},
        "m_empty": {},
        "nested": {"a": [1, 2], "b": {"c": "d"}},
    }


def test_terraform_reads_back_every_type_exactly(tmp_path):
    values = typed_values()
    tfvars = tmp_path / "values.tfvars"
    tfvars.write_text(hcl.dumps(values), encoding="utf-8")
    assert set(hcl2_parses(tfvars.read_text(encoding="utf-8"))) == set(values)  # python-hcl2 parses it
    if terraform_missing("the typed tfvars round trip"):
        return
    got = read_back(tmp_path / "module", tfvars, list(values), declarations(values))
    assert got == nfc(values)
    assert fmt_check(tfvars) is None


def test_terraform_converts_to_the_declared_types(tmp_path):
    """The declared type decides: numbers given to a string variable arrive as strings (Terraform's conversion, not ours)."""
    values = {"as_string": 5, "as_list": ["x"], "as_map": {"k": "v"}}
    tfvars = tmp_path / "values.tfvars"
    tfvars.write_text(hcl.dumps(values), encoding="utf-8")
    if terraform_missing("the declared-type conversion"):
        return
    got = read_back(tmp_path / "module", tfvars, list(values), declarations(values, {"as_string": "string", "as_list": "set(string)"}))
    assert got == {"as_string": "5", "as_list": ["x"], "as_map": {"k": "v"}}


def test_header_comment_is_ignored_by_terraform(tmp_path):
    tfvars = tmp_path / "values.tfvars"
    tfvars.write_text(hcl.dumps({"x": "y"}, header='Generated from "jobs/a.yaml"\nworkspace: ${not interpolated}'), encoding="utf-8")
    assert tfvars.read_text().startswith('# Generated from "jobs/a.yaml"\n# workspace: ${not interpolated}\nx = "y"\n')
    if terraform_missing("the header comment"):
        return
    assert read_back(tmp_path / "module", tfvars, ["x"], declarations({"x": "y"})) == {"x": "y"}


@ROUND_TRIP
@given(strings=st.lists(st.text(), min_size=1, max_size=40), keys=st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=8))
def test_arbitrary_strings_round_trip_through_terraform(tmp_path_factory, strings, keys):
    """One console call per example checks a whole batch of arbitrary strings (as list items and as map keys and values)."""
    normalized_keys = [nfc(k) for k in keys]
    if len(set(normalized_keys)) != len(normalized_keys):
        keys = {}  # two keys equal after NFC are one key to Terraform: not a writer question
    values = {"strings": strings, "mapping": keys}
    folder = tmp_path_factory.mktemp("round-trip")
    tfvars = folder / "values.tfvars"
    text = hcl.dumps(values)
    tfvars.write_text(text, encoding="utf-8")
    assert "${" not in text.replace("$${", "") and "%{" not in text.replace("%%{", "")  # no live template sequence
    if terraform_missing("the hypothesis round trip"):
        assert set(hcl2_parses(text)) == set(values)
        return
    got = read_back(folder / "module", tfvars, ["strings", "mapping"], declarations(values, {"strings": "list(string)", "mapping": "map(string)"}))
    assert got == nfc(values)
    assert fmt_check(tfvars) is None


def test_layout_is_terraform_fmt_clean(tmp_path):
    values = {"short": 1, "a_much_longer_name": "x", "tags": {"a": "1", "é-with-accent": "2", "e\u0301": "3", "😀": "4", "dativo:cost-center": "5"},
              "command": ["dativo", "run", "--config", "/app/jobs/acme/a-rather-long-file-name-for-a-job.yaml", "--mode", "self_hosted"],
              "nested": {"inner": {"deeper": [1, 2, 3]}, "list": [{"a": 1}, {"b": 2}]}, "after": True}
    path = tmp_path / "layout.tfvars"
    path.write_text(hcl.dumps(values, header="header"), encoding="utf-8")
    parsed = hcl2.loads(path.read_text(encoding="utf-8"))
    assert set(parsed) - {"__comments__"} == set(values)
    if terraform_missing("terraform fmt -check of the writer's layout"):
        return
    assert fmt_check(path) is None


def test_a_missing_terraform_is_said_loudly(monkeypatch):
    from . import tfconsole

    monkeypatch.setattr(tfconsole, "TERRAFORM", None)
    with pytest.warns(tfconsole.TerraformMissing, match="TERRAFORM NOT ON PATH: the check was NOT checked by Terraform itself"):
        assert tfconsole.terraform_missing("the check") is True
    monkeypatch.setattr(tfconsole, "TERRAFORM", "/usr/local/bin/terraform")
    assert tfconsole.terraform_missing("the check") is False
