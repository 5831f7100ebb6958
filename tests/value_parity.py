"""Value parity: what the Pulumi plan asks for, beside what the Terraform module receives and computes.

Pulumi side: the recorded inputs of a job's planned resources (mock runtime, real provider classes) and
its component outputs. Terraform side: ``terraform console -var-file=<the exported .tfvars.json>`` in a
folder holding the module's variables.tf, locals.tf, the locals of main.tf that need no provider
(``pure_locals``) and untyped declarations of its sibling module's variables. What a module computes
inside a resource block (not a local) is evaluated from the very expression text of that block,
extracted with python-hcl2 (:func:`resource_expr`, :func:`dynamic_expr`); a ``count``/``for_each``
resource becomes a list of its instances, so a resource a job does not get evaluates to ``[]``/null.
References to data sources (what only a provider can answer) are replaced by stand-ins that are
named, per module, in ``STAND_INS``; anything else a provider would compute is refused
(:class:`NotEvaluable`), never guessed. One console call per case and module: every expression of
the case in one ``base64encode(jsonencode({...}))``.
"""
from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Optional

from terraform_compat import family
from terraform_compat.readme_tables import MODULES_DIR, module_variables

from . import tfmodules
from .conftest import TERRAFORM
from .tfconsole import ENV

# --- HCL expression text, from python-hcl2 --------------------------------------------------------


class NotEvaluable(AssertionError):
    """An expression that needs a provider (a resource attribute or a data source without a stand-in)."""


def parsed(module: str) -> dict[str, Any]:
    """The module's blocks, with those of its storage submodule inlined in the module's terms (tests/tfmodules.py)."""
    return tfmodules.blocks(module)


_unquote = tfmodules.unquote
to_expr = tfmodules.to_expr  # a value as python-hcl2 parsed it → Terraform expression text


def block(module: str, kind: str, typ: str, name: str) -> dict:
    """The body of ``<kind> "<typ>" "<name>"`` (kind: resource, data, output)."""
    for entry in parsed(module).get(kind, []):
        for t, bodies in entry.items():
            if kind == "output":
                if _unquote(t) == typ:
                    return bodies
                continue
            if _unquote(t) == typ:
                for n, body in bodies.items():
                    if _unquote(n) == name:
                        return body
    raise KeyError(f"{module}: no {kind} {typ}.{name}")


def at(body: Any, path: tuple) -> Any:
    """Follow ``path`` (attribute names; a block, parsed as a list of one body, is entered on the way; ints index lists)."""
    for step in path:
        if isinstance(step, int):
            body = body[step]
            continue
        if isinstance(body, list):
            body = body[0]
        body = body[step]
    return body


def dynamic(body: dict, name: str) -> list[dict]:
    """The ``dynamic "<name>"`` blocks of a body, in order."""
    return [d[f'"{name}"'] for d in body.get("dynamic", []) for key in d if _unquote(key) == name]


# data sources and provider-computed values: what stands in for them when Terraform evaluates offline
# (regex → replacement); each names the plan's mock value or the variable the data source was asked for
STAND_INS: dict[str, list[tuple[str, str, str]]] = {
    "aws-ecs-job": [
        (r"\baws_cloudwatch_log_group\.this\.name\b", "var.log_group_name", "the log group's name is var.log_group_name"),
        (r"\blocal\.region\b", "var.region", "data.aws_region.current asked for var.region returns it (AWS jobs always have one)"),
        (r"\blocal\.(storage_)?partition\b", '"aws"', 'the partition: the Pulumi components write "arn:aws:" (docs/parity.md)'),
        (r"\baws_iam_role\.task\[0\]\.name\b", '"${var.name_prefix}-task"', "the task role's name, as configured (name = NAME_PREFIX-task)"),
    ],
    "gcp-cloud-run-job": [
        (r"\bgoogle_cloud_run_v2_job\.this\.location\b", "var.region", "the Cloud Run job's location is var.region"),
    ],
    "azure-container-apps-job": [
        (r"\blocal\.location\b", '"(location of the managed environment)"',
         "data.azurerm_container_app_environment: the environment's location, known only to Azure"),
    ],
    "kubernetes-identity-aws": [
        (r"\blocal\.(aws|storage)_partition\b", '"aws"', 'the partition: the Pulumi components write "arn:aws:" (docs/parity.md)'),
        (r"\baws_iam_role\.this\.name\b", '"${var.name_prefix}-k8s"', "the role's name, as configured (name = NAME_PREFIX-k8s)"),
    ],
    "kubernetes-identity-azure": [
        (r"\bdata\.azurerm_kubernetes_cluster\.this\.location\b", '"mock-location"', "the AKS cluster's location (the plan's mock)"),
    ],
}
_PROVIDER_REF = re.compile(r"\bdata\.[a-z0-9_]+\.|\b(?:aws|google|azurerm|kubernetes)_[a-z0-9_]+\.[a-z_]+|\bdata\.|\bmodule\.")
_LOCAL_REF = re.compile(r"\blocal\.([a-z0-9_]+)")


@cache
def pure_locals(module: str) -> dict[str, str]:
    """Locals (locals.tf and main.tf) whose expressions need no provider: name → expression text."""
    candidates: dict[str, str] = {}
    for entry in parsed(module).get("locals", []):
        for name, value in entry.items():
            if not name.startswith("__"):
                candidates[name] = to_expr(value)
    pure: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, text in candidates.items():
            if name in pure or _PROVIDER_REF.search(text):
                continue
            if all(ref in pure for ref in _LOCAL_REF.findall(text)):
                pure[name] = text
                changed = True
    return pure


def evaluable(module: str, text: str) -> str:
    for pattern, replacement, _why in STAND_INS.get(module, []):
        text = re.sub(pattern, replacement, text)
    bad = _PROVIDER_REF.search(text) or next((m for m in _LOCAL_REF.finditer(text) if m.group(1) not in pure_locals(module)), None)
    if bad:
        raise NotEvaluable(f"{module}: {bad.group(0)!r} needs a provider; add a stand-in to STAND_INS or compare it another way:\n{text}")
    return text


def instances(module: str, typ: str, name: str, expression: str) -> str:
    """``expression`` once per instance of resource ``typ.name``: a list (count 0 → [], for_each → one per key)."""
    body = block(module, "resource", typ, name)
    if "count" in body:
        return f"[for _i in range({to_expr(body['count'])}) : {expression}]"
    if "for_each" in body:
        return f"[for _k in {to_expr(body['for_each'])} : {expression}]"
    return f"[{expression}]"


def resource_expr(module: str, typ: str, name: str, *path: Any) -> str:
    """The expression of attribute ``path`` of ``resource typ.name`` (python-hcl2), per instance (a list)."""
    return evaluable(module, instances(module, typ, name, to_expr(at(block(module, "resource", typ, name), path))))


def one_expr(module: str, typ: str, name: str, *path: Any) -> str:
    """:func:`resource_expr` for a resource with at most one instance: its value, or null when it is not created."""
    return f"one({resource_expr(module, typ, name, *path)})"


def dynamic_expr(module: str, dyn: dict, attribute: str, iterator: str) -> str:
    """Attribute of a dynamic block's content, or null when its for_each is empty (``<iterator>.value`` → the element)."""
    for_each = to_expr(dyn["for_each"])
    text = to_expr(at(dyn["content"], (attribute,))).replace(f"{iterator}.value", f"({for_each})[0]")
    return evaluable(module, f"(length({for_each}) > 0 ? {text} : null)")


def output_expr(module: str, name: str) -> str:
    return evaluable(module, to_expr(block(module, "output", name, "")["value"]))


def resources_with(module: str, attribute_paths: tuple[tuple, ...]) -> list[tuple[str, str, tuple]]:
    """(type, name, path) of every resource with one of these attributes (the first found)."""
    out = []
    for entry in parsed(module).get("resource", []):
        for typ, bodies in entry.items():
            for name, body in bodies.items():
                for path in attribute_paths:
                    try:
                        at(body, path)
                    except (KeyError, IndexError, TypeError):
                        continue
                    out.append((_unquote(typ), _unquote(name), path))
                    break
    return out


# --- terraform console ---------------------------------------------------------------------------------


def console_folder(modules: tuple[str, ...], module: str, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "variables.tf").write_text((MODULES_DIR / module / "variables.tf").read_text(encoding="utf-8"), encoding="utf-8")
    pure = pure_locals(module)
    (workdir / "locals.tf").write_text("locals {\n" + "".join(f"  {k} = {v}\n" for k, v in pure.items()) + "}\n", encoding="utf-8")
    own = module_variables(MODULES_DIR / module)
    siblings = sorted({n for other in modules if other != module for n in module_variables(MODULES_DIR / other)} - set(own))
    # the exported variables no module of the job declares: the root's (terraform_compat/root_variables.tf)
    declared = set(own) | set(siblings)
    root = [family.declaration(b) for n, b in family.variable_blocks("ROOT").items() if n not in declared]
    (workdir / "siblings.tf").write_text("".join(f'variable "{n}" {{}}\n' for n in siblings) + "\n".join(root), encoding="utf-8")


def evaluate(modules: tuple[str, ...], module: str, tfvars_json: str, expressions: dict[str, str], workdir: Path) -> dict[str, Any]:
    """Every expression in one ``terraform console`` call; name → value (JSON)."""
    assert TERRAFORM, "terraform is not on PATH (docs/cloud-limits.md §5: /usr/local/bin/terraform)"
    console_folder(modules, module, workdir)
    (workdir / "job.tfvars.json").write_text(tfvars_json, encoding="utf-8")
    body = ", ".join(f'"{name}" = {text}' for name, text in expressions.items())
    proc = subprocess.run([TERRAFORM, "console", "-no-color", "-var-file=job.tfvars.json"], cwd=workdir, env=ENV,
                          input=f"base64encode(jsonencode({{{body}}}))\n", capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Error:" not in output, f"{module}: terraform console failed:\n{output}\n{body}"
    answer = [line for line in proc.stdout.splitlines() if line.startswith('"')]
    assert len(answer) == 1, output
    return json.loads(base64.b64decode(answer[0].strip('"')).decode("utf-8"))


# --- the values compared ------------------------------------------------------------------------------


@dataclass
class Side:
    """What the Pulumi side offers a value function: the job's custom resources, its component outputs, its variables."""

    resources: list
    outputs: dict
    variables: dict

    def of_type(self, typ: str) -> list:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Optional[Any]:
        found = self.of_type(typ)
        assert len(found) <= 1, (typ, [r.name for r in found])
        return found[0] if found else None


def dig(value: Any, *path: Any) -> Any:
    for step in path:
        if value is None:
            return None
        value = value[step] if isinstance(value, list) else value.get(step)
    return value


@dataclass
class Value:
    """One value compared: its name, how each side computes it (for the doc), the Pulumi reading, the Terraform expression."""

    name: str
    pulumi_how: str
    terraform_how: str
    pulumi: Callable[[Side], Any]
    terraform: Callable[[str], str]  # module → expression text
    normalize: Callable[[Any], Any] = lambda v: v
    known_difference: str = ""  # a real difference: the test asserts the values DIFFER, so a fix shows up


TAG_PATHS = {"aws": (("tags",),), "gcp": (("labels",),), "azure-native": (("tags",),), "kubernetes": (("metadata", "labels"),)}


def pulumi_tags(side: Side, package: str) -> dict[str, list]:
    """Pulumi type → the tag maps of its resources (those of this package that carry any)."""
    out: dict[str, list] = {}
    for r in side.resources:
        if r.type.split(":")[0] != package:
            continue
        tags = r.inputs.get("tags") if package in ("aws", "azure-native") else r.inputs.get("labels") if package == "gcp" else dig(r.inputs, "metadata", "labels")
        if tags:
            out.setdefault(r.type, []).append(tags)
    return {k: sorted(v, key=lambda t: json.dumps(t, sort_keys=True)) for k, v in out.items()}


def terraform_tags_expr(module: str, package: str) -> str:
    """Terraform type → the tag maps of its instances (every resource of the module with tags / labels / metadata.labels)."""
    by_type: dict[str, list[str]] = {}
    for typ, name, path in resources_with(module, TAG_PATHS[package] + ((("labels",),) if package == "gcp" else ())):
        by_type.setdefault(typ, []).append(resource_expr(module, typ, name, *path))
    return "{" + ", ".join(f'"{t}" = concat({", ".join(e)})' for t, e in sorted(by_type.items())) + "}"


def paired_tags(pulumi: dict[str, list], terraform: dict[str, list]) -> dict[str, list]:
    """Both sides keyed by Terraform type (tests.test_parity.corresponds pairs the types), tag maps sorted; empty lists dropped."""
    from .test_parity import corresponds

    out: dict[str, list] = {}
    for ptype, maps in pulumi.items():
        match = [t for t in terraform if corresponds(ptype, t)]
        key = match[0] if len(match) == 1 else f"(no Terraform type for {ptype})"
        out.setdefault(key, []).extend(maps)
    return {k: sorted(v, key=lambda t: json.dumps(t, sort_keys=True)) for k, v in out.items() if v}


def normal_tags(terraform: dict[str, list]) -> dict[str, list]:
    return {k: sorted(v, key=lambda t: json.dumps(t, sort_keys=True)) for k, v in terraform.items() if v}


def squeeze(text: Optional[str]) -> Optional[str]:
    """An ABAC condition without layout: Terraform writes it on several lines, Pulumi on one."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([()])\s*", r"\1", text).strip()


def aws_statements_expr(module: str, data_name: str) -> str:
    """The storage policy's statements from ``data "aws_iam_policy_document"``: {sid, actions, resources, s3_prefix}."""
    body = block(module, "data", "aws_iam_policy_document", data_name)
    items = []
    for statement in dynamic(body, "statement"):
        content = statement["content"][0]
        conditions = dynamic(content, "condition")
        prefix = dynamic_expr(module, conditions[0], "values", "condition") if conditions else "null"
        fields = {k: evaluable(module, to_expr(content[k])) for k in ("sid", "actions", "resources")}
        obj = "{" + ", ".join(f"{k} = {v}" for k, v in fields.items()) + f", s3_prefix = {prefix}" + "}"
        items.append(f"(length({to_expr(statement['for_each'])}) > 0 ? {evaluable(module, obj)} : null)")
    return f"[for s in [{', '.join(items)}] : s if s != null]"


def aws_statements(policy: Optional[dict]) -> list[dict]:
    if policy is None:
        return []
    listify = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    return [{"sid": s["Sid"], "actions": listify(s["Action"]), "resources": listify(s["Resource"]),
             "s3_prefix": dig(s, "Condition", "StringLike", "s3:prefix")} for s in policy["Statement"]]


def storage_policy(side: Side, role_suffix: str) -> Optional[dict]:
    found = [r for r in side.of_type("aws:iam/rolePolicy:RolePolicy") if r.inputs.get("name", "").endswith(role_suffix)]
    return json.loads(found[0].inputs["policy"]) if found else None


def regions_of(side: Side, package: str, keys=("region", "location")) -> list[str]:
    """Every region/location input of the job's resources of this package, distinct."""
    return sorted({r.inputs[k] for r in side.resources if r.type.split(":")[0] == package for k in keys if isinstance(r.inputs.get(k), str)})


def terraform_regions_expr(module: str, keys=("region", "location"), skip: tuple = ()) -> str:
    parts = [resource_expr(module, t, n, *p) for t, n, p in resources_with(module, tuple((k,) for k in keys)) if (t, n) not in skip]
    return f"sort(distinct([for r in concat({', '.join(parts)}) : r if r != null && r != \"\"]))"


def gcs_members(side: Side) -> list[dict]:
    return sorted(({"role": r.inputs["role"], "bucket": r.inputs["bucket"], "condition": dig(r.inputs, "condition", "expression")}
                   for r in side.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")), key=lambda m: m["role"])


def gcs_members_expr(module: str, bucket_name: str) -> str:
    """The bucket IAM members: role, bucket (local.bucket_name is the created bucket's name, i.e. var.storage_bucket), condition."""
    parts = []
    for typ, name, _ in resources_with(module, (("role",),)):
        if typ != "google_storage_bucket_iam_member":
            continue
        body = block(module, "resource", typ, name)
        conditions = dynamic(body, "condition")
        condition = dynamic_expr(module, conditions[0], "expression", "condition") if conditions else "null"
        # the created bucket's name is var.storage_bucket (name = var.storage_bucket), the given one is var.storage_bucket
        bucket = re.sub(r"\blocal\.[a-z_]*bucket_name\b", "var.storage_bucket", to_expr(body["bucket"]))
        parts.append(evaluable(module, instances(module, typ, name, f"{{role = {to_expr(body['role'])}, bucket = {bucket}, condition = {condition}}}")))
    return f"concat({', '.join(parts)})"
