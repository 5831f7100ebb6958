"""The version pins live in one place (terraform_compat/versions.json) and nothing says otherwise.

- each module's versions.tf is exactly what ``python -m terraform_compat.pins`` generates from it, for the
  providers its resources (and its storage submodule's) belong to;
- each example root's ``terraform`` block pins Terraform and its providers the same way;
- ``VERSION`` is semver and the CHANGELOG's newest entry is that version.
"""
from __future__ import annotations

import re

import hcl2
import pytest

from terraform_compat import pins
from terraform_compat.readme_tables import EXAMPLES_DIR

from .conftest import ROOT

MODULES = [d.name for d in pins.module_dirs()]
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / "main.tf").is_file())


@pytest.mark.parametrize("module", MODULES)
def test_module_versions_are_generated_from_the_pins(module):
    path = pins.MODULES_DIR / module / "versions.tf"
    assert path.read_text(encoding="utf-8") == pins.versions_tf(pins.module_providers(path.parent)), (
        f"{path} is not generated from terraform_compat/versions.json: run .venv/bin/python -m terraform_compat.pins")


def test_the_check_reports_a_stale_versions_file(tmp_path, monkeypatch, capsys):
    module = tmp_path / "m"
    module.mkdir()
    (module / "variables.tf").write_text("", encoding="utf-8")
    (module / "main.tf").write_text('resource "google_service_account" "this" {}\n', encoding="utf-8")
    (module / "versions.tf").write_text('terraform {\n  required_version = ">= 1.0"\n}\n', encoding="utf-8")
    monkeypatch.setattr(pins, "MODULES_DIR", tmp_path)
    assert pins.main(["--check"]) == 1 and "run: .venv/bin/python -m terraform_compat.pins" in capsys.readouterr().err
    assert pins.main([]) == 0
    assert pins.main(["--check"]) == 0
    assert '"hashicorp/google"' in (module / "versions.tf").read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_roots_pin_what_versions_json_pins(example):
    with (EXAMPLES_DIR / example / "main.tf").open(encoding="utf-8") as handle:
        (terraform,) = hcl2.load(handle, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))["terraform"]
    assert terraform["required_version"] == pins.terraform_pin().version
    providers = {name: spec for block in terraform["required_providers"] for name, spec in block.items() if not name.startswith("__")}
    expected = pins.provider_pins()
    assert {name: (spec["source"], spec["version"]) for name, spec in providers.items()} == {
        name: (expected[name].source, expected[name].version) for name in providers}


def test_every_pin_has_a_minimum_a_maximum_and_a_reason():
    for pin in [pins.terraform_pin(), *pins.provider_pins().values()]:
        assert re.fullmatch(r">= [\d.]+, < [\d.]+", pin.version), pin
        assert pin.why, pin


def test_the_family_version_is_semver_and_the_changelog_starts_with_it():
    version = pins.family_version()
    changelog = (ROOT / "terraform_compat" / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## (\d+\.\d+\.\d+)\b", changelog, re.M)
    assert releases and releases[0] == version, f"CHANGELOG.md's newest release is {releases[:1]}, VERSION says {version}"
