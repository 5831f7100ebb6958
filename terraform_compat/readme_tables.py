"""Inputs/outputs tables of the module READMEs, generated from ``variables.tf`` and ``outputs.tf``.

Each ``terraform_compat/modules/<name>/README.md`` holds two generated tables between
markers (``<!-- BEGIN_INPUTS -->``/``<!-- END_INPUTS -->`` and the same for OUTPUTS).
This reads the module with python-hcl2 and rewrites them::

    .venv/bin/python -m terraform_compat.readme_tables           # rewrite every module README
    .venv/bin/python -m terraform_compat.readme_tables --check   # exit 1 when one is stale

The parsed variables are also what tests/test_tf_contract.py compares with the exported
tfvars (:func:`module_variables`), and :func:`job_modules` / :func:`example_calls` say which
modules take a job's variables and which example root configuration calls them.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

MODULES_DIR = Path(__file__).resolve().parent / "modules"
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
REGENERATE = ".venv/bin/python -m terraform_compat.readme_tables"
_NO_DEFAULT = object()
_ESCAPES = re.compile(r'\\(["\\nt])')


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # the type expression as written, e.g. "map(string)"
    description: str
    default: Any = _NO_DEFAULT
    nullable: bool = True  # Terraform's default: null is a valid value unless `nullable = false`

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


@dataclass(frozen=True)
class Output:
    name: str
    description: str


def _load(path: Path) -> dict:
    import hcl2  # a test/check tool (requirements-dev.txt), not needed at runtime

    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))


def _text(raw: Any) -> str:
    """python-hcl2 keeps escapes raw (``\\"``); decode the few our descriptions use."""
    return _ESCAPES.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), str(raw))


def _expression(raw: Any) -> str:
    text = str(raw)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _blocks(parsed: dict, kind: str) -> list[tuple[str, dict]]:
    out = []
    for block in parsed.get(kind, []):
        for name, body in block.items():
            out.append((name.strip('"'), body))
    return out


ROOT_VARIABLES = Path(__file__).resolve().parent / "root_variables.tf"


def module_variables(module_dir: Path) -> dict[str, Variable]:
    """The module's variables in file order: name → type, description, default. ``module_dir`` may also be a
    .tf file (:data:`ROOT_VARIABLES`: the exported variables no module uses, declared by a root configuration)."""
    out: dict[str, Variable] = {}
    path = Path(module_dir) if str(module_dir).endswith(".tf") else Path(module_dir) / "variables.tf"
    for name, body in _blocks(_load(path), "variable"):
        out[name] = Variable(
            name=name,
            type=_expression(body.get("type", "any")),
            description=_text(body.get("description", "")),
            default=body.get("default", _NO_DEFAULT),
            nullable=body.get("nullable", True) is not False,
        )
    return out


def module_outputs(module_dir: Path) -> dict[str, Output]:
    """The module's outputs in file order: name → description."""
    return {name: Output(name, _text(body.get("description", "")))
            for name, body in _blocks(_load(Path(module_dir) / "outputs.tf"), "output")}


# --- which modules take a job's variables ----------------------------------------------------------

# One module per runtime; a Kubernetes job is two: kubernetes-job (the Kubernetes objects, kubernetes
# provider only) and the identity module of the cloud behind its cluster, so that a root configuration
# names the provider of that cloud and no other.
RUNTIME_MODULE = {"ecs": "aws-ecs-job", "cloud_run": "gcp-cloud-run-job", "container_apps": "azure-container-apps-job",
                  "kubernetes": "kubernetes-job"}
IDENTITY_MODULE = {"aws": "kubernetes-identity-aws", "gcp": "kubernetes-identity-gcp", "azure": "kubernetes-identity-azure"}
# Each cloud's storage (bucket, its access for the job's identity) is one submodule, called by that cloud's runtime
# module and its Kubernetes identity module; a root configuration never calls it directly.
STORAGE_MODULE = {"aws": "aws-job-storage", "gcp": "gcp-job-storage", "azure": "azure-job-storage"}


def composition(module: str, cloud: str) -> tuple[str, ...]:
    """The modules used together with ``module`` for a job on ``cloud``: ``module`` first."""
    return (module, IDENTITY_MODULE[cloud]) if module == RUNTIME_MODULE["kubernetes"] else (module,)


def job_modules(runtime: str, cloud: str) -> tuple[str, ...]:
    """The modules that together declare the exported variables of a job of this runtime and cloud."""
    return composition(RUNTIME_MODULE[runtime], cloud)


def example_calls(example_dir: Path) -> dict[str, str]:
    """The module calls of an example root configuration: call name → module folder name."""
    calls = {}
    for name, body in _blocks(_load(Path(example_dir) / "main.tf"), "module"):
        source = str(body["source"])
        calls[name] = source.rsplit("/", 1)[-1] if source.startswith("../../modules/") else source
    return calls


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    if value is _NO_DEFAULT:
        return "n/a"
    if value is None:
        return "`null`"
    if isinstance(value, str):
        return f"`{json.dumps(_text(value))}`"
    return f"`{json.dumps(value)}`"


def inputs_table(variables: dict[str, Variable]) -> str:
    rows = ["| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for var in variables.values():
        rows.append(f"| `{var.name}` | {_cell(var.description)} | `{_cell(var.type)}` | {_default(var.default)} | "
                    f"{'yes' if var.required else 'no'} |")
    return "\n".join(rows)


def outputs_table(outputs: dict[str, Output]) -> str:
    rows = ["| Name | Description |", "|---|---|"]
    rows += [f"| `{out.name}` | {_cell(out.description)} |" for out in outputs.values()]
    return "\n".join(rows)


def _replace_between(text: str, marker: str, body: str, readme: Path) -> str:
    begin, end = f"<!-- BEGIN_{marker} -->", f"<!-- END_{marker} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme}: markers {begin} ... {end} not found")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text, count=1)


def render_readme(module_dir: Path, text: Optional[str] = None) -> str:
    """The module README with both tables regenerated."""
    readme = Path(module_dir) / "README.md"
    text = readme.read_text(encoding="utf-8") if text is None else text
    text = _replace_between(text, "INPUTS", inputs_table(module_variables(module_dir)), readme)
    return _replace_between(text, "OUTPUTS", outputs_table(module_outputs(module_dir)), readme)


def stale_readmes(module_dirs: list[Path]) -> list[Path]:
    return [d / "README.md" for d in module_dirs if render_readme(d) != (d / "README.md").read_text(encoding="utf-8")]


def all_modules() -> list[Path]:
    return sorted(p for p in MODULES_DIR.iterdir() if (p / "variables.tf").is_file())


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terraform_compat.readme_tables", description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", type=Path, help="module folders (default: every module)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a README table is stale")
    args = parser.parse_args(argv)
    modules = args.modules or all_modules()
    if args.check:
        stale = stale_readmes(modules)
        for readme in stale:
            print(f"{readme}: inputs/outputs tables are stale; run: {REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    for module in modules:
        readme = module / "README.md"
        new = render_readme(module)
        if new != readme.read_text(encoding="utf-8"):
            readme.write_text(new, encoding="utf-8")
            print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
