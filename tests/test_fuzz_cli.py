"""Fuzzing the CLI with mutated example jobs: exit 0 or 2, never a traceback, and --json is always JSON."""
from __future__ import annotations

import json
import os

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dativo_infra.cli import cli as group

from .conftest import JOBS

EXAMPLES = sorted(str(p) for p in JOBS.rglob("*.yaml") if "assets" not in p.parts)
# pieces that stress YAML and the models more than random characters do
PIECES = ["\n", "  ", "\t", ":", "- ", "[", "]", "{", "}", "&a ", "*a", "<<: ", "!!str ", "!!float ", "~", "null", ".nan", ".inf", "-1", "0x1F",
          "yes", "NO", "${HOME}", "${TENANT_ID}", "'", '"', "#", "\u202e", "\u0958", "é", "\x00", "\x07", "---\n", "...\n"]


@st.composite
def mutated(draw) -> bytes:
    text = open(draw(st.sampled_from(EXAMPLES)), encoding="utf-8").read()
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace", "swap"]))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "delete" and lines:
            del lines[at]
        elif kind == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif kind == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif lines:
            piece = draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)))
            line = lines[at]
            col = draw(st.integers(0, len(line)))
            lines[at] = line[:col] + piece + (line[col + 1:] if kind == "replace" else line[col:])
    return "".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None, derandomize=True, database=None,  # deterministic in CI: the same 150 mutations every run
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=mutated())
def test_mutated_examples_never_crash_the_cli(content, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    job = folder / "job.yaml"
    job.write_bytes(content)
    runner = CliRunner()
    env = {"DATIVO_ASSETS_DIR": str(JOBS / "assets"), "TENANT_ID": None}
    for args in (["validate", str(job)], ["validate", str(job), "--json"], ["tags", str(job), "--json"]):
        result = runner.invoke(group, args, env=env, catch_exceptions=False)
        text = result.stdout + result.stderr
        assert result.exit_code in (0, 2), (args, result.exit_code, text[-2000:])
        assert "Traceback" not in text and "internal error" not in text, text[-2000:]
        if "--json" in args:
            json.loads(result.stdout)
    assert sorted(os.listdir(folder)) == ["job.yaml"]
