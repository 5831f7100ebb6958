"""Read .tfvars back with Terraform itself (docs/cloud-limits.md §5), offline.

``terraform console -var-file=FILE`` in a folder holding only ``variable``
blocks needs no provider: it reads the file exactly as ``terraform apply``
would and converts each value to its declared type. We ask it for
``base64encode(jsonencode({...}))`` so its answer is plain ASCII, whatever the
strings hold, and decode that.

Where the binary is missing (it is at /usr/local/bin on these machines) the
Terraform checks cannot run: :func:`terraform_missing` says so loudly (a
warning in the test summary) and the callers still run their python-hcl2
checks. Nothing is skipped silently.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Optional

from terraform_compat import hcl

from .conftest import TERRAFORM

ENV = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}


class TerraformMissing(UserWarning):
    pass


def terraform_missing(what: str) -> bool:
    """True (and a loud warning) when the terraform binary is not on PATH."""
    if TERRAFORM:
        return False
    warnings.warn(TerraformMissing(f"TERRAFORM NOT ON PATH: {what} was NOT checked by Terraform itself "
                                   "(only by python-hcl2); install terraform to run the honest check"), stacklevel=2)
    return True


type_of = hcl.type_of  # the narrowest Terraform type constraint that takes a value unchanged


def declarations(values: dict[str, Any], types: Optional[dict[str, str]] = None) -> str:
    types = types or {}
    return "".join(f'variable "{name}" {{\n  type = {types.get(name) or type_of(value)}\n}}\n' for name, value in values.items())


def read_back(folder: Path, tfvars: Path, names: list[str], variables_tf: str) -> dict[str, Any]:
    """What Terraform reads from ``tfvars`` for ``names``, given ``variables_tf`` (written alone into ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "variables.tf").write_text(variables_tf, encoding="utf-8")
    expression = "base64encode(jsonencode({" + ", ".join(f'"{n}" = var.{n}' for n in names) + "}))\n"
    proc = subprocess.run([TERRAFORM, "console", f"-var-file={tfvars.resolve()}"], input=expression, cwd=folder, env=ENV,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"terraform console rejected {tfvars}:\n{proc.stderr}\n{proc.stdout}")
    answer = proc.stdout.strip().splitlines()[-1].strip()
    assert answer.startswith('"') and answer.endswith('"'), proc.stdout
    return json.loads(base64.b64decode(answer[1:-1]).decode("utf-8"))


def fmt_check(path: Path) -> Optional[str]:
    """None when ``terraform fmt`` leaves the file unchanged (as ``fmt -check`` would), else the formatted text.

    The text goes through standard input, so any file name works (``fmt`` only takes .tf/.tfvars names).
    """
    text = path.read_text(encoding="utf-8")
    proc = subprocess.run([TERRAFORM, "fmt", "-"], input=text, env=ENV, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return None if proc.stdout == text else proc.stdout


def nfc(value: Any) -> Any:
    """Terraform (cty) normalizes every string to Unicode NFC; compare against that."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value
