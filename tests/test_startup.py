"""validate, tags and terraform export never import the Pulumi SDK or a provider SDK: they must start fast."""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import JOBS, ROOT

PROBE = """
import sys
from dativo_infra.cli import main
try:
    main({argv!r})
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_")))
print("HEAVY", heavy, "CODE", code)
"""


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["validate", str(JOBS)],
    ["tags", str(JOBS / "acme" / "stripe_customers_gcp.yaml"), "--explain"],
    ["terraform", "export", "--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output", "{out}"],
])
def test_offline_commands_load_no_pulumi_sdk(argv, tmp_path):
    argv = [a.replace("{out}", str(tmp_path / "x.tfvars")) for a in argv]
    proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("HEAVY [] CODE "), (last, proc.stderr[-2000:])
    assert last.split()[-1] in ("0", "None")
