"""The module family as data, read without a HCL library (the CLI needs no dev tools).

- :func:`module_sources`: where a root configuration takes each module from: a git address pinned with
  ``?ref=vX.Y.Z`` (the family's ``VERSION``), a registry address with a ``version`` argument, or a local
  folder (no version: for this checkout and the tests);
- :func:`variable_blocks` / :func:`output_blocks`: the ``variable`` and ``output`` blocks of a module's files,
  as text, so a root can declare the same variables. The files are ``terraform fmt``-canonical (a block
  starts at ``variable "name" {`` and ends at the next ``}`` in the first column); tests/test_scaffold.py
  checks this reader against python-hcl2 for every module.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Optional

from .pins import PINS_FILE, family_version
from .readme_tables import MODULES_DIR

ROOT_VARIABLES = Path(__file__).resolve().parent / "root_variables.tf"
_BLOCK = re.compile(r'^(variable|output) "([a-z0-9_]+)" \{\n.*?^\}\n', re.M | re.S)
_VALIDATION = re.compile(r"\n  validation \{\n.*?\n  \}\n", re.S)
_REGISTRY = re.compile(r"^(?:[a-z0-9.-]+/)?[a-z0-9_-]+/[a-z0-9_-]+/[a-z0-9]+$")


@dataclass(frozen=True)
class ModuleSource:
    source: str
    version: Optional[str] = None  # a registry address takes the version as its own argument


@cache
def default_source_base() -> str:
    """The family's published location (versions.json ``module_source_base``)."""
    return str(json.loads(PINS_FILE.read_text(encoding="utf-8"))["module_source_base"])


def source_kind(base: str) -> str:
    """``local`` (a folder: ./, ../ or /), ``registry`` (HOST/NAMESPACE/NAME/PROVIDER) or ``git`` (anything else)."""
    if base.startswith(("./", "../", "/")) or base in (".", ".."):
        return "local"
    if "::" not in base and "://" not in base and _REGISTRY.match(base):
        return "registry"
    return "git"


def module_sources(names: tuple[str, ...], base: Optional[str] = None) -> dict[str, ModuleSource]:
    """Each module's source at the family's version.

    git: ``git::<base>//terraform_compat/modules/<name>?ref=v<VERSION>``; registry (the family published as one
    package, terraform_compat/README.md): ``<base>//modules/<name>`` and ``version = "<VERSION>"``; local:
    ``<base>/<name>``.
    """
    base = base or default_source_base()
    version, kind = family_version(), source_kind(base)  # before the trailing / goes: "./" and "/" are folders
    base = base.rstrip("/")
    out = {}
    for name in names:
        if kind == "local":
            out[name] = ModuleSource(f"{base}/{name}")
        elif kind == "registry":
            out[name] = ModuleSource(f"{base}//modules/{name}", version)
        else:
            git = base if base.startswith("git::") else f"git::{base}"
            out[name] = ModuleSource(f"{git}//terraform_compat/modules/{name}?ref=v{version}")
    return out


def _blocks(path: Path, kind: str) -> dict[str, str]:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return {name: match.group(0) for match in _BLOCK.finditer(text) for found, name in [match.groups()] if found == kind}


@cache
def variable_blocks(module: str) -> dict[str, str]:
    """The module's ``variable`` blocks as text, by name (ROOT for terraform_compat/root_variables.tf)."""
    return _blocks(ROOT_VARIABLES if module == "ROOT" else MODULES_DIR / module / "variables.tf", "variable")


@cache
def output_blocks(module: str) -> dict[str, str]:
    return _blocks(MODULES_DIR / module / "outputs.tf", "output")


def required(block: str) -> bool:
    """Whether a variable block has no default."""
    return re.search(r"^  default\s+=", block, re.M) is None


def declaration(block: str) -> str:
    """A module's variable block as a root declares it: the same type, description and default, without the
    validation blocks (the module validates; a validation may name variables the root does not have)."""
    return re.sub(r"\n+\}\n$", "\n}\n", _VALIDATION.sub("\n", block))


def description(block: str) -> str:
    match = re.search(r'^  description\s+=\s+(".*")$', block, re.M)
    return json.loads(match.group(1)) if match else ""
