"""``dativo-infra terraform scaffold``: a root configuration per job that Terraform reads as written.

For every example job (jobs/) and every upstream reference job (tests/fixtures/reference-jobs, standing
in for the tenants' own), the scaffolded root:

- is ``terraform fmt``-canonical, every file;
- declares every exported variable: Terraform itself reads terraform.tfvars against the root's
  variables.tf (``terraform console``: no undeclared variable, every validation passes, values echoed);
- passes each module only variables it declares, every required one, with the root's type equal to the
  module's; then Terraform reads the values each module receives against that module's own variables.tf
  (types and validation blocks), as the contract test does for exported files;
- is idempotent, keeps (and names) an edited file unless ``--force``, and writes nothing outside the
  output folder.

The roots here call the modules of this checkout (``--module-source-base`` a local folder), so checkov
follows the calls into the modules; ``tests/test_tf_pins.py`` covers the pinned sources.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import warnings
from functools import cache
from pathlib import Path

import hcl2
import pytest

from terraform_compat import family
from terraform_compat.readme_tables import MODULES_DIR, module_outputs, module_variables

from . import value_parity as vp
from .conftest import JOBS, REFERENCE_JOBS, ROOT, TERRAFORM
from .tfconsole import ENV, fmt_check

LOCAL = str(MODULES_DIR)
CHECKOV = ROOT / ".venv-lint" / "bin" / "checkov"


def scaffold(cli, *args) -> dict:
    code, out, err = cli("terraform", "scaffold", *args, "--json")
    report = json.loads(out)
    assert code == (0 if report["ok"] else 2), out + err
    return report


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> list[Path]:
    """Every example job and every reference job, scaffolded once (in process, through the CLI)."""
    from click.testing import CliRunner

    from dativo_infra.cli import cli as group

    out = tmp_path_factory.mktemp("roots")
    found = []
    for args in (["--all", str(JOBS)],
                 ["--all", str(REFERENCE_JOBS / "jobs"), "--tenant", "acme", "--assets-dir", str(REFERENCE_JOBS / "assets")]):
        result = CliRunner().invoke(group, ["terraform", "scaffold", *args, "--output-dir", str(out), "--module-source-base", LOCAL, "--json"],
                                    catch_exceptions=False)
        report = json.loads(result.stdout)
        assert result.exit_code == 0 and report["ok"], result.stdout
        found += [Path(r["directory"]) for r in report["roots"]]
    assert len(found) >= 11 + 3
    return found


def parse(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))


@cache
def root_values(root: Path) -> dict:
    """terraform.tfvars as Terraform reads it: ``terraform console`` over the root's variables.tf and the file alone."""
    folder = Path(tempfile.mkdtemp(prefix="root-values-"))
    try:
        for name in ("variables.tf", "terraform.tfvars"):
            shutil.copy(root / name, folder / name)
        names = list(module_variables(root))
        answer = console(folder, "base64encode(jsonencode({" + ", ".join(f"{n} = var.{n}" for n in names) + "}))")
        return json.loads(base64.b64decode(answer.strip().splitlines()[-1].strip('"')).decode("utf-8"))
    finally:
        shutil.rmtree(folder)


def console(folder: Path, expression: str) -> str:
    proc = subprocess.run([TERRAFORM, "console", "-no-color"], cwd=folder, env=ENV, input=expression + "\n", capture_output=True, text=True,
                          timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Error:" not in output and "undeclared variable" not in output, f"{folder}:\n{output}"
    return proc.stdout


def test_every_file_is_canonically_formatted(roots):
    assert TERRAFORM, "terraform is not on PATH (docs/cloud-limits.md §5)"
    unformatted = [str(p) for root in roots for p in sorted(root.iterdir()) if p.suffix in (".tf", ".tfvars") and fmt_check(p) is not None]
    assert not unformatted, unformatted


def test_terraform_reads_the_exported_file_against_the_root(roots):
    """Every exported variable is declared by the root (no undeclared-variable warning, every validation passes)."""
    for root in roots:
        echoed = root_values(root)
        assert echoed["name_prefix"] and echoed["tags"] and set(echoed) == set(module_variables(root)), root


@pytest.mark.parametrize("change, message", [
    ({"cloud_provider": "gcp"}, 'calls the modules of cloud_provider "aws"'),
    ({"runtime_type": "kubernetes"}, 'calls the modules of runtime_type "ecs"'),
])
def test_the_root_refuses_the_file_of_another_kind_of_job(roots, tmp_path, change, message):
    root = next(r for r in roots if r.name == "stripe-customers-aws")
    shutil.copy(root / "variables.tf", tmp_path / "variables.tf")
    text = (root / "terraform.tfvars").read_text(encoding="utf-8")
    for name, value in change.items():
        text = "\n".join(f'{name} = "{value}"' if line.startswith(f"{name} ") else line for line in text.splitlines()) + "\n"
    (tmp_path / "terraform.tfvars").write_text(text, encoding="utf-8")
    proc = subprocess.run([TERRAFORM, "console", "-no-color"], cwd=tmp_path, env=ENV, input="var.name_prefix\n", capture_output=True, text=True, timeout=120)
    output = " ".join((proc.stdout + proc.stderr).split())
    assert "Invalid value for variable" in output and message.replace('"', '\\"') in output.replace('"', '\\"'), output


def module_calls(root: Path) -> dict[str, tuple[str, dict]]:
    out = {}
    for block in parse(root / "main.tf")["module"]:
        for call, body in block.items():
            source = str(body["source"])
            assert source.startswith(LOCAL + "/"), source
            out[call] = (source[len(LOCAL) + 1:], {k: v for k, v in body.items() if k != "source" and not k.startswith("__")})
    return out


def module_problems(root: Path, workdir: Path) -> list[str]:
    """No undeclared and no missing variable for any module of the root, types equal to the root's; then each module's
    own variables.tf (with its provider-free locals) reads the values it receives: types and validation blocks."""
    problems = []
    declared_at_root = module_variables(root)
    values = root_values(root)
    calls = module_calls(root)
    for call, (module, args) in calls.items():
        declared = module_variables(MODULES_DIR / module)
        where = f"{root}: module.{call} ({module})"
        problems += [f"{where}: passes {n}, which it does not declare" for n in args if n not in declared]
        problems += [f"{where}: leaves required {n} unset" for n, v in declared.items() if v.required and n not in args]
        passed = {}
        for name, value in args.items():
            if value == f"${{var.{name}}}":
                if declared_at_root[name].type != declared[name].type:
                    problems.append(f"{where}: {name} is {declared_at_root[name].type} at the root, {declared[name].type} in the module")
                passed[name] = values[name]
            else:
                other, _, output = str(value).removeprefix("${module.").removesuffix("}").partition(".")
                assert output == name and name in module_outputs(MODULES_DIR / calls[other][0]), (where, name, value)
        folder = workdir / call
        folder.mkdir(parents=True)
        shutil.copy(MODULES_DIR / module / "variables.tf", folder / "variables.tf")
        (folder / "locals.tf").write_text("locals {\n" + "".join(f"  {k} = {v}\n" for k, v in vp.pure_locals(module).items()) + "}\n",
                                          encoding="utf-8")
        (folder / "terraform.tfvars.json").write_text(json.dumps(passed), encoding="utf-8")
        assert json.loads(console(folder, "jsonencode(var.name_prefix)").strip().splitlines()[-1]) == json.dumps(values["name_prefix"])
    return problems


def test_each_module_gets_what_it_declares_and_terraform_reads_it(roots, tmp_path):
    problems = [p for i, root in enumerate(roots) for p in module_problems(root, tmp_path / str(i))]
    assert not problems, "\n".join(problems)


def test_variant_jobs_scaffold_roots_terraform_reads(cli, tmp_path):
    """The value-parity variants (every runtime on its clouds x region in the job or only in the stack file x
    Kubernetes requests given or not, created buckets, keys, schedules): each root formats, loads its tfvars, and
    feeds each module values its variables.tf takes."""
    from .test_value_parity import RUNTIMES, variant_project

    project = variant_project(tmp_path / "projects", "stack")
    report = scaffold(cli, "--all", str(project / "jobs"), "--project-dir", str(project), "--output-dir", str(tmp_path / "out"),
                      "--module-source-base", LOCAL)
    found = [Path(r["directory"]) for r in report["roots"]]
    assert len(found) == len(RUNTIMES) * 2 * 2
    problems = []
    for i, root in enumerate(found):
        problems += [f"{p}: not formatted" for p in sorted(root.iterdir()) if p.suffix in (".tf", ".tfvars") and fmt_check(p) is not None]
        problems += module_problems(root, tmp_path / "tf" / str(i))
    assert not problems, "\n".join(problems)


def test_a_kubernetes_root_calls_both_modules_and_binds_the_identity(roots):
    for root in roots:
        calls = module_calls(root)
        if "identity" in calls:
            assert calls["job"][0] == "kubernetes-job" and calls["identity"][0].startswith("kubernetes-identity-")
            assert calls["job"][1]["service_account_annotations"] == "${module.identity.service_account_annotations}"
            header = (root / "terraform.tfvars").read_text(encoding="utf-8").split("\n\n")[0]
            assert "kubernetes-job" in header and calls["identity"][0] in header


def test_sources_are_pinned_to_the_family_version(cli, tmp_path):
    version = family.family_version()
    job = str(JOBS / "acme" / "salesforce_accounts_gke.yaml")
    git = scaffold(cli, "--config", job, "--output-dir", str(tmp_path / "git"))
    main = (Path(git["roots"][0]["directory"]) / "main.tf").read_text(encoding="utf-8")
    assert f"//terraform_compat/modules/kubernetes-job?ref=v{version}\"" in main and "kubernetes-identity-gcp?ref=" in main
    registry = scaffold(cli, "--config", job, "--output-dir", str(tmp_path / "reg"), "--module-source-base", "app.terraform.io/acme/dativo-jobs/multi")
    main = (Path(registry["roots"][0]["directory"]) / "main.tf").read_text(encoding="utf-8")
    assert 'source  = "app.terraform.io/acme/dativo-jobs/multi//modules/kubernetes-job"' in main and f'version = "{version}"' in main
    assert fmt_check(Path(registry["roots"][0]["directory"]) / "main.tf") is None  # source and version aligned as terraform fmt aligns them


def test_rerunning_changes_nothing_and_an_edited_file_is_kept(cli, tmp_path):
    args = ("--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output-dir", str(tmp_path))
    first = scaffold(cli, *args)["roots"][0]
    assert sorted(first["written"]) == ["backend.tf", "main.tf", "providers.tf", "terraform.tfvars", "variables.tf"]
    directory = Path(first["directory"])
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    again = scaffold(cli, *args)["roots"][0]
    assert again["written"] == [] and again["kept"] == [] and {p.name: p.read_bytes() for p in directory.iterdir()} == before
    edited = (directory / "main.tf").read_text(encoding="utf-8") + "# a team's own change\n"
    (directory / "main.tf").write_text(edited, encoding="utf-8")
    code, out, err = cli("terraform", "scaffold", *args)
    assert code == 0 and "kept " in err and "main.tf" in err and (directory / "main.tf").read_text(encoding="utf-8") == edited
    (directory / "extra.tf").write_text("# the team's file\n", encoding="utf-8")
    forced = scaffold(cli, *args, "--force")["roots"][0]
    assert forced["written"] == ["main.tf"] and (directory / "main.tf").read_bytes() == before["main.tf"]
    assert (directory / "extra.tf").read_text(encoding="utf-8") == "# the team's file\n"  # never touched: not a file scaffold writes


def test_a_file_that_was_there_first_is_kept(cli, tmp_path):
    directory = tmp_path / "acme" / "prod" / "stripe-customers-aws"
    directory.mkdir(parents=True)
    (directory / "providers.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n', encoding="utf-8")
    report = scaffold(cli, "--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output-dir", str(tmp_path))["roots"][0]
    assert report["kept"] == ["providers.tf"] and "providers.tf" not in report["written"]
    assert (directory / "providers.tf").read_text(encoding="utf-8").startswith('provider "aws"')


def test_nothing_is_written_outside_the_output_folder(cli, tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    (out / "acme").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, out / "acme" / "prod")  # a link planted in the output folder
    code, stdout, _ = cli("terraform", "scaffold", "--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output-dir", str(out), "--json")
    report = json.loads(stdout)
    assert code == 2 and not report["ok"] and "leads out of" in report["errors"][0]["message"]
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--module-source-base", 'x" }'], "--module-source-base takes an address"),
    ([], "give either --config JOB or --all DIR"),
])
def test_bad_arguments_are_exit_2(cli, tmp_path, args, message):
    extra = ["--config", str(JOBS / "acme" / "stripe_customers_aws.yaml")] if args else []
    code, out, err = cli("terraform", "scaffold", *extra, *args, "--output-dir", str(tmp_path))
    assert code == 2 and message in out + err


def test_a_job_without_infrastructure_is_exit_2(cli, tmp_path):
    job = REFERENCE_JOBS / "jobs" / "stripe_customers_to_iceberg_no_infrastructure.yaml"
    code, out, _ = cli("terraform", "scaffold", "--config", str(job), "--output-dir", str(tmp_path), "--json",
                       "--assets-dir", str(REFERENCE_JOBS / "assets"))
    assert code == 2 and "no infrastructure block" in out and not any(tmp_path.iterdir())


@pytest.mark.parametrize("module", sorted(p.name for p in MODULES_DIR.iterdir() if (p / "variables.tf").is_file()) + ["ROOT"])
def test_the_text_reader_agrees_with_python_hcl2(module, tmp_path):
    """family.py reads variables without a HCL library (the CLI needs none); python-hcl2 reads the same names, and a
    root declaration keeps the module's type, default and nullability."""
    source = family.ROOT_VARIABLES if module == "ROOT" else MODULES_DIR / module
    expected = module_variables(source)
    blocks = family.variable_blocks(module)
    assert list(blocks) == list(expected)
    (tmp_path / "variables.tf").write_text("\n".join(family.declaration(b) for b in blocks.values()), encoding="utf-8")
    again = module_variables(tmp_path)
    assert {n: (v.type, v.default, v.nullable) for n, v in again.items()} == {n: (v.type, v.default, v.nullable) for n, v in expected.items()}
    assert all(family.required(blocks[n]) == v.required for n, v in expected.items())


def test_checkov_finds_nothing_in_the_scaffolded_roots(roots, tmp_path):
    """Through the local module calls checkov also scans the modules' resources in each root's context."""
    if not CHECKOV.exists():
        warnings.warn(UserWarning(f"CHECKOV NOT INSTALLED ({CHECKOV}): the scaffolded roots were NOT scanned; run make lint once"), stacklevel=1)
        return
    sample = {r.parent.parent.name + r.name: r for r in roots if r.name in (
        "stripe-customers-aws", "stripe-customers-gcp", "salesforce-accounts-azure", "hubspot-contacts-kubernetes",
        "salesforce-accounts-gke", "hubspot-contacts-aks")}
    for name, root in sample.items():
        shutil.copytree(root, tmp_path / name)
    proc = subprocess.run([str(CHECKOV), "--directory", str(tmp_path), "--framework", "terraform", "--compact", "--quiet", "--skip-download",
                           "--output", "json"], capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)
    summary = report["summary"] if isinstance(report, dict) else report[0]["summary"]
    assert summary["failed"] == 0 and summary["passed"] > 0, proc.stdout[-3000:]


def test_the_readme_walk_through_runs_as_written(cli, tmp_path, monkeypatch):
    """terraform_compat/README.md's scaffold command, in a folder standing for the repository root, writes the
    folder its `cd` names, with a backend block and the tfvars that `terraform init` and `apply` read there."""
    text = (ROOT / "terraform_compat" / "README.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("dativo-infra terraform scaffold")]
    cd = [line for line in text.splitlines() if line.startswith("cd roots/")]
    assert lines and cd
    (tmp_path / "jobs").symlink_to(JOBS)
    for stack_file in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack_file, tmp_path)
    monkeypatch.chdir(tmp_path)
    import shlex

    for line in lines:
        code, out, err = cli(*shlex.split(line)[1:])
        assert code == 0, out + err
    directory = tmp_path / cd[0].split()[1]
    assert {p.name for p in directory.iterdir()} >= {"main.tf", "providers.tf", "variables.tf", "backend.tf", "terraform.tfvars"}
    assert 'backend "s3"' in (directory / "backend.tf").read_text(encoding="utf-8")


def test_a_link_in_the_root_is_neither_read_nor_written_through(cli, tmp_path):
    directory = tmp_path / "out" / "acme" / "prod" / "stripe-customers-aws"
    directory.mkdir(parents=True)
    target = tmp_path / "elsewhere.tf"
    target.write_text("# not the scaffold's\n", encoding="utf-8")
    (directory / "main.tf").symlink_to(target)
    report = scaffold(cli, "--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output-dir", str(tmp_path / "out"))["roots"][0]
    assert "main.tf" in report["kept"] and target.read_text(encoding="utf-8") == "# not the scaffold's\n"
    forced = scaffold(cli, "--config", str(JOBS / "acme" / "stripe_customers_aws.yaml"), "--output-dir", str(tmp_path / "out"), "--force")["roots"][0]
    assert "main.tf" in forced["written"] and not (directory / "main.tf").is_symlink()
    assert target.read_text(encoding="utf-8") == "# not the scaffold's\n"  # the link was replaced, its target untouched


def test_a_job_setting_a_provider_setting_itself_declares_it_once(cli, tmp_path):
    """terraform.variables.project (a provider setting of the GCP root) is declared in variables.tf only, and loads."""
    text = (JOBS / "acme" / "stripe_customers_gcp.yaml").read_text(encoding="utf-8")
    marker = "    workspace: acme-prod\n"
    assert marker in text
    job = tmp_path / "jobs" / "acme" / "stripe_customers_gcp.yaml"
    job.parent.mkdir(parents=True)
    job.write_text(text.replace(marker, marker + "    variables:\n      project: acme-project\n", 1), encoding="utf-8")
    report = scaffold(cli, "--config", str(job), "--output-dir", str(tmp_path / "out"), "--assets-dir", str(JOBS / "assets"))
    root = Path(report["roots"][0]["directory"])
    assert 'variable "project"' not in (root / "providers.tf").read_text(encoding="utf-8")
    assert 'variable "project"' in (root / "variables.tf").read_text(encoding="utf-8")
    assert root_values(root)["project"] == "acme-project"
    assert report["roots"][0]["warnings"] == []  # providers.tf reads it: not a variable "passed nowhere"
