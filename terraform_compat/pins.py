"""The version pins of the module family, kept in one place: ``terraform_compat/versions.json``.

Every module's ``versions.tf`` is generated from it (:func:`versions_tf`), the scaffolded root
configurations take their ``required_providers`` from it, and ``tests/test_tf_pins.py`` fails when a
module's ``versions.tf`` or an example root's ``terraform`` block says anything else. To move a pin,
edit ``versions.json`` (with the reason) and run::

    .venv/bin/python -m terraform_compat.pins           # rewrite every module's versions.tf
    .venv/bin/python -m terraform_compat.pins --check   # exit 1 when one is stale

``VERSION`` is the family's own version (semver): what a module source pins with ``?ref=vX.Y.Z``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
PINS_FILE = HERE / "versions.json"
VERSION_FILE = HERE / "VERSION"
MODULES_DIR = HERE / "modules"
PROVIDER_PREFIX = {"aws": "aws_", "azurerm": "azurerm_", "google": "google_", "kubernetes": "kubernetes_"}
_SEMVER = re.compile(r"\d+\.\d+\.\d+")


@dataclass(frozen=True)
class Pin:
    name: str
    source: str
    version: str
    why: str


@cache
def terraform_pin() -> Pin:
    data = json.loads(PINS_FILE.read_text(encoding="utf-8"))["terraform"]
    return Pin("terraform", "", data["version"], data["why"])


@cache
def provider_pins() -> dict[str, Pin]:
    data = json.loads(PINS_FILE.read_text(encoding="utf-8"))["providers"]
    return {name: Pin(name, spec["source"], spec["version"], spec["why"]) for name, spec in sorted(data.items())}


@cache
def family_version() -> str:
    """The family's version from VERSION, checked to be semver (X.Y.Z)."""
    text = VERSION_FILE.read_text(encoding="utf-8").strip()
    if not _SEMVER.fullmatch(text):
        raise ValueError(f"{VERSION_FILE}: {text!r} is not a semantic version X.Y.Z")
    return text


def module_providers(module_dir: Path) -> list[str]:
    """The providers a module's resources and data sources belong to (by their type prefix), its submodules' included."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(Path(module_dir).glob("*.tf")) if p.name != "versions.tf")
    types = set(re.findall(r'^(?:resource|data) "([a-z0-9_]+)"', text, re.M))
    for sub in re.findall(r'^\s*source\s*=\s*"\.\./([a-z0-9-]+)"', text, re.M):
        types |= {f"{p}x" for p in (PROVIDER_PREFIX[n] for n in module_providers(Path(module_dir).parent / sub))}
    return sorted(name for name, prefix in PROVIDER_PREFIX.items() if any(t.startswith(prefix) for t in types))


def required_providers_block(providers: list[str], indent: str = "  ") -> str:
    """``required_providers { ... }`` for these providers, each with its pin and the reason as a comment."""
    pins = provider_pins()
    lines = [f"{indent}required_providers {{"]
    for name in providers:
        pin = pins[name]
        lines += [f"{indent}  {name} = {{", f'{indent}    source = "{pin.source}"', f"{indent}    # {pin.why}",
                  f'{indent}    version = "{pin.version}"', f"{indent}  }}"]
    return "\n".join(lines + [f"{indent}}}"])


def versions_tf(providers: list[str]) -> str:
    """A module's whole versions.tf (generated: edit versions.json instead)."""
    pin = terraform_pin()
    return (f"# Generated from terraform_compat/versions.json by `python -m terraform_compat.pins`: edit that file, not this one.\n"
            f"terraform {{\n  # {pin.why}\n  required_version = \"{pin.version}\"\n\n{required_providers_block(providers)}\n}}\n")


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES_DIR.iterdir() if (p / "variables.tf").is_file())


def stale(dirs: list[Path]) -> list[Path]:
    return [d / "versions.tf" for d in dirs
            if not (d / "versions.tf").is_file() or (d / "versions.tf").read_text(encoding="utf-8") != versions_tf(module_providers(d))]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terraform_compat.pins", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a versions.tf is stale")
    args = parser.parse_args(argv)
    outdated = stale(module_dirs())
    if args.check:
        for path in outdated:
            print(f"{path}: not generated from versions.json; run: .venv/bin/python -m terraform_compat.pins", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        path.write_text(versions_tf(module_providers(path.parent)), encoding="utf-8")
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
