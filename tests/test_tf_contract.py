"""The variables contract between `dativo-infra terraform export` and the Terraform modules.

For every example job (and every upstream reference job), the exported variables are exactly what
the job's modules declare together (one module per runtime; a Kubernetes job has two, kubernetes-job
and the identity module of its cloud), with the root configuration's declarations of the exported
variables no module uses (terraform_compat/root_variables.tf, "ROOT" below): every exported variable
is declared by one of them, every variable either declares without a default is exported, and the
types agree with each declaration.
Both sides are parsed with python-hcl2; a failure names the variable and the module. Then Terraform
itself reads each exported file (`terraform console -var-file` in a folder holding only one module's
variables.tf and locals.tf, plus untyped declarations of what only its sibling module declares,
docs/cloud-limits.md §5): it converts the values to the declared types and evaluates every validation block, and
echoes values back. The example root configuration of the job's modules declares every exported
variable too.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from dativo_infra.components import azure_roles, kubernetes_job
from dativo_infra.jobs import Job, load_jobs
from terraform_compat import family, hcl
from terraform_compat.exporter import render, terraform_variables
from terraform_compat.readme_tables import (
    EXAMPLES_DIR,
    MODULES_DIR,
    ROOT_VARIABLES,
    STORAGE_MODULE,
    Variable,
    composition,
    example_calls,
    job_modules,
    module_variables,
)

from . import value_parity as vp
from .conftest import JOBS, REFERENCE_JOBS, TERRAFORM
from .plans import resolved, variables_of

ROOT = "ROOT"  # the root configuration's own declarations: the exported variables no module uses

LOCAL_MODULE = re.compile(r"(?:^|/)terraform_compat/modules/([a-z0-9-]+)/?$")


# --- the checker ---------------------------------------------------------------------------------


def parse_type(text: str) -> Any:
    """A Terraform type expression → nested tuples: ("string",), ("list", T), ("object", {k: T}), ..."""
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[(){}\[\],=]|\"[^\"]*\"|[^\s(){}\[\],=\"]+", text)
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if expected is not None and token != expected:
            raise ValueError(f"type {text!r}: expected {expected!r} at {token!r}")
        pos += 1
        return token

    def skip_default() -> None:  # optional(T, default): the default is an expression, skip it
        depth = 0
        while pos < len(tokens):
            token = peek()
            if token in "([{":
                depth += 1
            elif token in ")]}":
                if depth == 0:
                    return
                depth -= 1
            take()

    def one() -> Any:
        name = take()
        if name in ("string", "number", "bool", "any"):
            return (name,)
        if name in ("list", "set", "map"):
            take("(")
            inner = one()
            take(")")
            return (name, inner)
        if name == "tuple":
            take("(")
            take("[")
            items = []
            while peek() != "]":
                items.append(one())
                if peek() == ",":
                    take(",")
            take("]")
            take(")")
            return ("tuple", items)
        if name == "object":
            take("(")
            take("{")
            attrs = {}
            while peek() != "}":
                key = take().strip('"')
                take("=")
                attrs[key] = one()
                if peek() == ",":
                    take(",")
            take("}")
            take(")")
            return ("object", attrs)
        if name == "optional":
            take("(")
            inner = one()
            if peek() == ",":
                take(",")
                skip_default()
            take(")")
            return ("optional", inner)
        raise ValueError(f"type {text!r}: unknown type {name!r}")

    result = one()
    if pos != len(tokens):
        raise ValueError(f"type {text!r}: trailing {tokens[pos:]!r}")
    return result


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def type_problems(value: Any, typ: Any, where: str) -> list[str]:
    """Why ``value`` does not have Terraform type ``typ`` (strict: no string↔number conversion)."""
    name = typ[0]
    if name == "optional":
        return [] if value is None else type_problems(value, typ[1], where)
    if name == "any":
        return []
    kind = kind_of(value)
    expected = {"string": "string", "number": "number", "bool": "bool", "list": "list", "set": "list", "tuple": "list",
                "map": "map", "object": "map"}[name]
    if kind != expected:
        return [f"{where}: declared {name}, exported a {kind} ({value!r})"]
    if name in ("list", "set"):
        return [p for i, item in enumerate(value) for p in type_problems(item, typ[1], f"{where}[{i}]")]
    if name == "tuple":
        if len(value) != len(typ[1]):
            return [f"{where}: declared a tuple of {len(typ[1])}, exported {len(value)} items"]
        return [p for i, (item, t) in enumerate(zip(value, typ[1], strict=False)) for p in type_problems(item, t, f"{where}[{i}]")]
    if name == "map":
        return [p for k, item in value.items() for p in type_problems(item, typ[1], f"{where}[{k!r}]")]
    if name == "object":
        problems = [f"{where}: attribute {k!r} is not in the declared object" for k in value if k not in typ[1]]
        for key, t in typ[1].items():
            if key in value:
                problems += type_problems(value[key], t, f"{where}.{key}")
            elif t[0] != "optional":
                problems.append(f"{where}: required attribute {key!r} is missing")
        return problems
    return []


def contract_problems(exported: dict[str, Any], declared: dict[str, dict[str, Variable]]) -> list[str]:
    """Every way the exported variables and the declarations of the job's modules (module → its variables)
    disagree, one line per variable and module."""
    where = {module: "terraform_compat/root_variables.tf" if module == ROOT else f"terraform_compat/modules/{module}/variables.tf"
             for module in declared}
    anywhere = {name for variables in declared.values() for name in variables}
    problems = [f"{name}: exported but not declared in {' or '.join(where.values())}" for name in sorted(set(exported) - anywhere)]
    for module, variables in declared.items():
        problems += [f"{name}: declared without a default in {where[module]} but not exported"
                     for name, var in variables.items() if var.required and name not in exported]
        for name in sorted(set(exported) & set(variables)):
            if exported[name] is None:  # null: any type, unless the declaration says nullable = false
                problems += [] if variables[name].nullable else [f"{name}: declared nullable = false, exported null (in {where[module]})"]
                continue
            problems += [f"{p} (in {where[module]})" for p in type_problems(exported[name], parse_type(variables[name].type), name)]
    return problems


@cache
def declarations(modules: tuple[str, ...], root: bool = True) -> dict[str, dict[str, Variable]]:
    """The job's modules → their variables, and (``root``) ROOT → what the root declares that none of them does."""
    out = {module: module_variables(MODULES_DIR / module) for module in modules}
    if root:
        out[ROOT] = {name: var for name, var in module_variables(ROOT_VARIABLES).items() if not any(name in v for v in out.values())}
    return out


# --- the jobs --------------------------------------------------------------------------------------


def modules_of(job: Job) -> tuple[str, ...]:
    """The job's module (its local terraform.module_source, else its runtime's) and the modules used with it."""
    tf = job.infrastructure.terraform
    match = LOCAL_MODULE.search(tf.module_source or "") if tf else None
    if match:
        return composition(match.group(1), job.infrastructure.provider)
    return job_modules(job.runtime, job.infrastructure.provider)


def _jobs(path: Path) -> list[Job]:
    result = load_jobs([str(path)])
    assert result.ok, "\n".join(p.render() for p in result.problems)
    return [j for j in result.jobs if j.infrastructure is not None]


EXAMPLES = _jobs(JOBS)


def _id(job: Job) -> str:
    return f"{job.tenant}/{Path(job.path).stem}"


@dataclass
class Case:
    job: Job
    modules: tuple[str, ...]
    variables: dict[str, Any]  # as exported
    tfvars: str

    @property
    def name(self) -> str:
        return " + ".join(self.modules)


def example_case(job: Job) -> Case:
    return Case(job, modules_of(job), terraform_variables(resolved(job)), render(resolved(job), "hcl"))


def reference_cases() -> list[Case]:
    """Upstream reference jobs: their terraform.variables target their own (git) modules, so only
    the generated set is checked, against the modules of their runtime and cloud."""
    if not (REFERENCE_JOBS / "jobs").is_dir():
        pytest.fail(f"reference jobs not found at {REFERENCE_JOBS}: set DATIVO_REFERENCE_JOBS")
    result = load_jobs([str(REFERENCE_JOBS / "jobs")], variables={"TENANT_ID": "acme"})
    assert result.ok, "\n".join(p.render() for p in result.problems)
    cases = []
    for job in result.jobs:
        if job.infrastructure is not None:
            variables = variables_of(job)
            cases.append(Case(job, job_modules(job.runtime, job.infrastructure.provider), variables, hcl.dumps(variables)))
    return cases


# --- tests -----------------------------------------------------------------------------------------


def test_every_module_is_exercised_by_an_example_job():
    modules = sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir() and p.name not in STORAGE_MODULE.values())
    assert {m for j in EXAMPLES for m in modules_of(j)} == set(modules)
    # a Kubernetes example job on every cloud, each with the identity module of its cloud
    kubernetes = {j.infrastructure.provider: modules_of(j) for j in EXAMPLES if j.runtime == "kubernetes"}
    assert kubernetes == {cloud: ("kubernetes-job", f"kubernetes-identity-{cloud}") for cloud in ("aws", "gcp", "azure")}


@pytest.mark.parametrize("job", EXAMPLES, ids=_id)
def test_example_job_satisfies_its_module_contract(job):
    case = example_case(job)
    problems = contract_problems(case.variables, declarations(case.modules))
    assert not problems, f"{job.path} → {case.name}:\n" + "\n".join(problems)


def free_form_problems(job: Job) -> list[str]:
    modules = modules_of(job)
    problems = []
    for name, value in (job.infrastructure.terraform.variables if job.infrastructure.terraform else {}).items():
        declared = [variables[name] for variables in declarations(modules, root=False).values() if name in variables]
        if not declared:
            problems.append(f"{job.path}: terraform.variables.{name} is not declared by {' or '.join(modules)}")
        for var in declared:
            problems += [f"{job.path}: {p}" for p in type_problems(value, parse_type(var.type), name)]
    return problems


def test_example_jobs_free_form_variables_are_declared_by_their_module():
    """A job's own terraform.variables are exported beside the generated ones: its module must declare them."""
    problems = [p for job in EXAMPLES for p in free_form_problems(job)]
    assert not problems, "\n".join(problems)


def test_a_free_form_variable_reaches_the_module(tmp_path):
    """A job that sets a module variable of its own (enable_container_insights) exports it, and Terraform reads it."""
    text = (JOBS / "acme" / "stripe_customers_aws.yaml").read_text(encoding="utf-8")
    marker = "    workspace: acme-prod\n"
    assert marker in text
    path = tmp_path / "jobs" / "acme" / "stripe_customers_aws.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text.replace(marker, marker + "    variables:\n      enable_container_insights: false\n", 1), encoding="utf-8")
    result = load_jobs([str(path)], assets_dir=str(JOBS / "assets"))
    assert result.ok, "\n".join(p.render() for p in result.problems)
    (job,) = result.jobs
    assert free_form_problems(job) == []
    case = example_case(job)
    assert case.variables["enable_container_insights"] is False
    assert not contract_problems(case.variables, declarations(case.modules))
    workdir = tmp_path / "console"
    workdir.mkdir()
    assert console(case, "aws-ecs-job", workdir, "{flag = var.enable_container_insights}") == {"flag": False}
    # and a free-form name the module does not declare is reported by name
    job.infrastructure.terraform.variables["enable_spot"] = True
    assert free_form_problems(job) == [f"{job.path}: terraform.variables.enable_spot is not declared by aws-ecs-job"]


def test_reference_jobs_satisfy_the_modules_of_their_runtime():
    cases = reference_cases()
    assert {m for c in cases for m in c.modules} >= {"aws-ecs-job", "gcp-cloud-run-job", "kubernetes-job", "kubernetes-identity-aws"}
    failures = []
    for case in cases:
        problems = contract_problems(case.variables, declarations(case.modules))
        failures += [f"{case.job.path} → {case.name}: {p}" for p in problems]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("exported, problem", [
    ({"b": "x", "c": "y"}, "b: exported but not declared in terraform_compat/modules/m/variables.tf or terraform_compat/modules/n/variables.tf"),
    ({"c": "y"}, "a: declared without a default in terraform_compat/modules/m/variables.tf but not exported"),
    ({"a": 1}, "c: declared without a default in terraform_compat/modules/n/variables.tf but not exported"),
    ({"a": "1", "c": "y"}, "a: declared number, exported a string ('1') (in terraform_compat/modules/m/variables.tf)"),
    ({"a": 1, "c": "y", "m": {"k": 2}}, "m['k']: declared string, exported a number (2) (in terraform_compat/modules/m/variables.tf)"),
    ({"a": 1, "c": "y", "l": "x"}, "l: declared list, exported a string ('x') (in terraform_compat/modules/m/variables.tf)"),
    ({"a": 1, "c": "y", "o": {"x": True, "y": 1}}, "o: attribute 'y' is not in the declared object"),
    ({"a": 1, "c": None}, "c: declared nullable = false, exported null (in terraform_compat/modules/n/variables.tf)"),
    # declared by both modules: checked against each declaration
    ({"a": 1, "c": "y", "s": 5}, "s: declared string, exported a number (5) (in terraform_compat/modules/n/variables.tf)"),
])
def test_the_checker_names_the_variable_and_the_module_that_disagree(exported, problem):
    declared = {
        "m": {
            "a": Variable("a", "number", ""),
            "l": Variable("l", "list(string)", "", default=[]),
            "m": Variable("m", "map(string)", "", default={}),
            "o": Variable("o", "object({x = bool, z = optional(string, \"d\")})", "", default=None),
            "s": Variable("s", "any", "", default=""),
        },
        "n": {"c": Variable("c", "string", "", nullable=False), "s": Variable("s", "string", "", default="")},
    }
    problems = contract_problems(exported, declared)
    assert any(p.startswith(problem) for p in problems), problems
    assert contract_problems({"a": 1, "c": "y", "s": "z"}, declared) == []


def test_type_parser_reads_nested_types():
    assert parse_type("map(list(string))") == ("map", ("list", ("string",)))
    assert parse_type('object({a = optional(number, 3), b = tuple([string, bool])})') == (
        "object", {"a": ("optional", ("number",)), "b": ("tuple", [("string",), ("bool",)])})


# --- Terraform's own reading of the exported files -------------------------------------------------

# values echoed back by the console, per module: Terraform's conversion of what the exporter wrote
ECHO = {
    "aws-ecs-job": "{name_prefix = var.name_prefix, tags = var.tags, cpu_units = var.cpu_units, "
                   "subnet_ids = var.subnet_ids, schedule_expression = var.schedule_expression, run_tags = local.run_tags}",
    "gcp-cloud-run-job": "{name_prefix = var.name_prefix, tags = var.tags, cpu_limit = var.cpu_limit, "
                         "max_runtime_seconds = var.max_runtime_seconds, prefix_condition = local.storage_prefix_condition}",
    "azure-container-apps-job": "{name_prefix = var.name_prefix, tags = var.tags, cpu_cores = var.cpu_cores, "
                                "memory = local.memory, abac_condition = local.storage_abac_condition, role_assignment_name = local.storage_role_assignment_name}",
    "kubernetes-job": "{name_prefix = var.name_prefix, labels = var.labels, dagster_k8s_config = local.dagster_k8s_config, "
                      "pod_selector = local.pod_selector}",
    "kubernetes-identity-aws": "{name_prefix = var.name_prefix, tags = var.tags, cloud_provider = var.cloud_provider, "
                               "subject = local.subject, object_path = local.storage_object_path}",
    "kubernetes-identity-gcp": "{name_prefix = var.name_prefix, tags = var.tags, cloud_provider = var.cloud_provider, "
                               "service_account_name = local.service_account_name, prefix_condition = local.storage_prefix_condition}",
    "kubernetes-identity-azure": "{name_prefix = var.name_prefix, tags = var.tags, cloud_provider = var.cloud_provider, "
                                 "subject = local.subject, abac_condition = local.storage_abac_condition, role_assignment_name = local.storage_role_assignment_name}",
}
UNDECLARED = re.compile(r'does not declare a variable named "([^"]+)"')


def console_folder(modules: tuple[str, ...], module: str, workdir: Path) -> None:
    """``module``'s variables.tf and its provider-free locals (its storage submodule's included, named
    ``local.storage_<name>``: tests/value_parity.py), an untyped declaration of each variable that only the
    other modules of the job declare, and the root's declarations (root_variables.tf) of those no module of
    the job declares: Terraform types and validates this module's variables and the root's, and a name
    that none declares is still reported as undeclared."""
    shutil.copy(MODULES_DIR / module / "variables.tf", workdir / "variables.tf")
    pure = vp.pure_locals(module)
    (workdir / "locals.tf").write_text("locals {\n" + "".join(f"  {k} = {v}\n" for k, v in pure.items()) + "}\n", encoding="utf-8")
    own = module_variables(MODULES_DIR / module)
    siblings = sorted({name for other in modules if other != module for name in module_variables(MODULES_DIR / other)} - set(own))
    root = [family.declaration(block) for name, block in family.variable_blocks("ROOT").items() if name in declarations(modules)[ROOT]]
    (workdir / "siblings.tf").write_text("".join(f'variable "{name}" {{}}\n' for name in siblings) + "\n".join(root), encoding="utf-8")


def console(case: Case, module: str, workdir: Path, echo: str = "") -> dict:
    """``terraform console -var-file`` on the exported file, in a folder prepared by :func:`console_folder`."""
    assert TERRAFORM, "terraform is not on PATH (docs/cloud-limits.md §5: /usr/local/bin/terraform)"
    console_folder(case.modules, module, workdir)
    (workdir / "job.tfvars").write_text(case.tfvars, encoding="utf-8")
    args = [TERRAFORM, "console", "-no-color", "-var-file=job.tfvars"]
    proc = subprocess.run(args, cwd=workdir, input=f"jsonencode({echo or ECHO[module]})\n", capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # the console reports a rejected value as an error yet exits 0: read what it printed
    assert "Error:" not in output, output
    undeclared = set(UNDECLARED.findall(output))
    assert not undeclared and "undeclared variable" not in output, (
        f"{case.name}: Terraform found undeclared variables {sorted(undeclared)}\n{output}")
    printed = [line for line in proc.stdout.splitlines() if line.startswith('"')]
    assert len(printed) == 1, output
    return json.loads(json.loads(printed[0]))


def check_with_terraform(case: Case, tmp_path: Path) -> dict[str, dict]:
    """Each module of the job reads the exported file; module → the values it echoed."""
    echoed = {}
    for module in case.modules:
        workdir = tmp_path / module
        workdir.mkdir()
        echoed[module] = console(case, module, workdir)
        assert echoed[module]["name_prefix"] == case.variables["name_prefix"]
        if "tags" in echoed[module]:
            assert echoed[module]["tags"] == case.variables["tags"]
    assert any("tags" in values for values in echoed.values()), f"{case.name}: no module of the job echoed the tags"
    return echoed


@pytest.mark.parametrize("job", EXAMPLES, ids=_id)
def test_terraform_accepts_the_exported_file(job, tmp_path):
    case = example_case(job)
    v = case.variables
    prefix = v["storage_prefix"].strip("/")
    gcs_condition = f'resource.name.startsWith("projects/_/buckets/{v["storage_bucket"]}/objects/{prefix}/")'
    service_account = v["service_account"] or v["name_prefix"]  # Kubernetes jobs: the subject of the identity
    subject = f"system:serviceaccount:{v.get('namespace')}:{service_account}"
    for module, echoed in check_with_terraform(case, tmp_path).items():
        if module == "aws-ecs-job":
            assert (echoed["cpu_units"], echoed["subnet_ids"]) == (v["cpu_units"], v["subnet_ids"])
            assert echoed["schedule_expression"] == v["schedule_expression"]
            assert echoed["run_tags"] == {"ecs/cpu": str(v["cpu_units"]), "ecs/memory": str(v["compute_memory"]),
                                          "dagster/max_runtime": str(v["max_runtime_seconds"])}
        elif module == "gcp-cloud-run-job":
            assert (echoed["cpu_limit"], echoed["max_runtime_seconds"]) == (v["cpu_limit"], v["max_runtime_seconds"])
            assert echoed["prefix_condition"]["expression"] == gcs_condition
        elif module == "azure-container-apps-job":
            assert echoed["cpu_cores"] == v["cpu_cores"]
            assert float(echoed["memory"].removesuffix("Gi")) == 2 * v["cpu_cores"]
            assert f"StringStartsWith '{prefix}/'" in echoed["abac_condition"]
            assert f"StringEquals '{v['storage_container']}'" in echoed["abac_condition"]
            # the Pulumi component's GUID for the same assignment: either tool finds the other's
            assert echoed["role_assignment_name"] == azure_roles.assignment_name(v, v["storage_account"], v["storage_container"])
        elif module == "kubernetes-job":
            assert echoed["labels"] == v["labels"]
            check_dagster_k8s_config(echoed["dagster_k8s_config"], v)
            if v["cloud_provider"] != "azure":  # no pod labels from the identity: the very string the Pulumi component writes
                pulumi_config = kubernetes_job.dagster_k8s_config(v, service_account, {})
                assert echoed["dagster_k8s_config"] == kubernetes_job.dagster_k8s_tag(pulumi_config)
            assert echoed["pod_selector"] and all(v["labels"][k] == val for k, val in echoed["pod_selector"].items())
        elif module == "kubernetes-identity-aws":
            assert (echoed["cloud_provider"], echoed["subject"]) == ("aws", subject)
            assert echoed["object_path"] == (f"{prefix}/*" if prefix else "*")
        elif module == "kubernetes-identity-gcp":
            assert (echoed["cloud_provider"], echoed["service_account_name"]) == ("gcp", service_account)
            if prefix:
                assert echoed["prefix_condition"]["expression"] == gcs_condition
            else:
                assert echoed["prefix_condition"] is None
        elif module == "kubernetes-identity-azure":
            assert (echoed["cloud_provider"], echoed["subject"]) == ("azure", subject)
            account, _, container = v["storage_bucket"].partition("/")
            assert echoed["role_assignment_name"] == azure_roles.assignment_name(v, account, container)
            if prefix:
                assert f"StringStartsWith '{prefix}/'" in echoed["abac_condition"]
                assert f"StringEquals '{v['storage_bucket'].split('/')[1]}'" in echoed["abac_condition"]
            else:
                assert echoed["abac_condition"] is None
        else:
            pytest.fail(f"{module}: no values of this module are compared; add them here")


def check_dagster_k8s_config(value: str, v: dict) -> None:
    """Dagster's own parser reads the tag value the module outputs."""
    from dagster_k8s.job import USER_DEFINED_K8S_CONFIG_KEY, get_user_defined_k8s_config

    config = get_user_defined_k8s_config({USER_DEFINED_K8S_CONFIG_KEY: value})
    assert config.container_config["resources"] == {
        "requests": {"cpu": v["request_cpu"], "memory": v["request_memory"]},
        "limits": {"cpu": v["limit_cpu"], "memory": v["limit_memory"]},
    }
    assert config.pod_spec_config["service_account_name"] == (v["service_account"] or v["name_prefix"])
    assert v["labels"].items() <= config.pod_template_spec_metadata["labels"].items()


def test_terraform_accepts_the_reference_jobs(tmp_path):
    cases = reference_cases()
    for i, case in enumerate(cases):
        workdir = tmp_path / str(i)
        workdir.mkdir()
        check_with_terraform(case, workdir)
    assert len(cases) >= 3


def test_a_variable_no_module_declares_is_reported_by_terraform(tmp_path):
    """The sibling declarations hide nothing: a name that neither module of a Kubernetes job declares is undeclared."""
    job = next(j for j in EXAMPLES if j.runtime == "kubernetes")
    case = example_case(job)
    case.tfvars += 'enable_spot = true\n'
    with pytest.raises(AssertionError, match="undeclared variables"):
        console(case, "kubernetes-job", tmp_path)


# --- the example root configurations ---------------------------------------------------------------


@cache
def example_of(modules: tuple[str, ...]) -> Path:
    """The example root configuration that calls exactly these modules."""
    found = [d for d in sorted(EXAMPLES_DIR.iterdir()) if (d / "main.tf").is_file() and sorted(example_calls(d).values()) == sorted(modules)]
    assert len(found) == 1, f"{' + '.join(modules)}: {len(found)} example root configurations call exactly these modules"
    return found[0]


@cache
def passed_through(example: Path) -> dict[str, set[str]]:
    """Root variable → the modules it is passed to as is (``name = var.name``)."""
    with (example / "main.tf").open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    calls = example_calls(example)
    out: dict[str, set[str]] = {}
    for block in parsed.get("module", []):
        for call, body in block.items():
            module = calls[call.strip('"')]
            for name, value in body.items():
                if str(value) == f"${{var.{name}}}":
                    out.setdefault(name, set()).add(module)
    return out


@pytest.mark.parametrize("job", EXAMPLES, ids=_id)
def test_the_example_root_takes_every_exported_variable_to_a_module_that_declares_it(job, tmp_path):
    """Every exported variable is declared by the job's example root configuration (Terraform reads the
    exported file against that variables.tf alone) and is passed to one of its modules that declares it;
    one that no module declares is declared at the root as root_variables.tf declares it, and passed nowhere."""
    case = example_case(job)
    example = example_of(case.modules)
    passed = passed_through(example)
    at_root = module_variables(example)
    problems = []
    for name in sorted(case.variables):
        declaring = {m for m, variables in declarations(case.modules).items() if name in variables}
        if declaring == {ROOT}:
            root_only = declarations(case.modules)[ROOT][name]
            if passed.get(name) or name not in at_root or (at_root[name].type, at_root[name].required) != (root_only.type, root_only.required):
                problems.append(f"{name}: examples/{example.name} must declare it as terraform_compat/root_variables.tf does and pass it nowhere")
        elif not passed.get(name, set()) & declaring:
            problems.append(f"{name}: examples/{example.name} passes it to {sorted(passed.get(name, []))}, declared by {sorted(declaring)}")
    assert not problems, "\n".join(problems)
    assert TERRAFORM, "terraform is not on PATH (docs/cloud-limits.md §5: /usr/local/bin/terraform)"
    shutil.copy(example / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "job.tfvars").write_text(case.tfvars, encoding="utf-8")
    proc = subprocess.run([TERRAFORM, "console", "-no-color", "-var-file=job.tfvars"], cwd=tmp_path, input="var.name_prefix\n",
                          capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Error:" not in output and "undeclared variable" not in output, output
    assert f'"{case.variables["name_prefix"]}"' in proc.stdout


@pytest.mark.parametrize("module, change, message", [
    ("aws-ecs-job", {"compute_memory": 3000}, "not a valid Fargate memory size"),
    ("aws-ecs-job", {"tags": {"aws:owner": "x"}}, "reserved prefix aws:"),
    ("gcp-cloud-run-job", {"cpu_limit": "3"}, "cpu_limit must be 1, 2, 4, 6 or 8"),
    ("gcp-cloud-run-job", {"tags": {"Team": "x"}}, "Label keys must be"),
    ("azure-container-apps-job", {"memory_size": "3Gi"}, "memory_size must pair with cpu_cores"),
    ("kubernetes-job", {"labels": {"kubernetes.io/x": "y"}}, "reserved for Kubernetes components"),
    ("kubernetes-identity-aws", {"tags": {"aws:owner": "x"}}, "not starting with aws:"),
    ("kubernetes-identity-aws", {"cluster_name": ""}, "cluster_name must name the EKS cluster"),
    ("kubernetes-identity-gcp", {"storage_kms_key_id": "etl-key"}, "storage_kms_key_id must be projects/P/locations/L/keyRings/R/cryptoKeys/K"),
    ("kubernetes-identity-azure", {"storage_bucket": "lake"}, "storage_bucket must be account/container"),
    ("kubernetes-identity-azure", {"resource_group": ""}, "resource_group must be set"),
])
def test_terraform_rejects_values_the_cloud_would_reject(module, change, message, tmp_path):
    """The validation blocks run: broken values per module, Terraform's own error names them."""
    job = next(j for j in EXAMPLES if module in modules_of(j))
    variables = {**terraform_variables(resolved(job)), **change}
    console_folder(modules_of(job), module, tmp_path)
    (tmp_path / "job.tfvars").write_text(hcl.dumps(variables), encoding="utf-8")
    args = [TERRAFORM, "console", "-no-color", "-var-file=job.tfvars"]
    proc = subprocess.run(args, cwd=tmp_path, input="var.name_prefix\n", capture_output=True, text=True, timeout=120)
    output = " ".join((proc.stdout + proc.stderr).split())  # Terraform wraps its messages
    assert "Error: Invalid value for variable" in output
    assert message in output
