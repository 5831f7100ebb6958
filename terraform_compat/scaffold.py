"""``dativo-infra terraform scaffold``: a ready root configuration per job.

For a resolved job (the same variables the Pulumi program and ``terraform export`` read) it renders the
files of ``<output-dir>/<tenant>/<environment>/<job>/``:

- ``main.tf``: the ``terraform`` block (required version and providers from versions.json), the call of
  each module the job needs (its runtime's; on Kubernetes ``kubernetes-job`` and the identity module of the
  cluster's cloud, whose outputs bind the service account) at a pinned source, and their outputs;
- ``variables.tf``: every exported variable, declared as the module that uses it declares it (or as
  root_variables.tf declares those no module uses), so Terraform reads the exported file with no
  undeclared and no missing variable;
- ``providers.tf``: the provider blocks of the job's cloud, and the settings the export does not carry;
- ``backend.tf``: the job's ``terraform.backend_config`` as the backend block (no file without one: local state);
- ``terraform.tfvars``: the exported variables (Terraform loads this name by itself).

:func:`build_root` renders (nothing written); :func:`write_root` writes what changed, atomically, and keeps
a file edited since it was written (unless ``force``): ``.dativo-scaffold.json`` holds the digest of each
file as last written, and a file whose content no longer has that digest is someone's edit.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from typing import Optional

from dativo_infra.errors import DativoError, ExportError, Problem
from dativo_infra.fsafe import TEMP_PREFIX, write_atomic
from dativo_infra.resolve import ResolvedJob

from . import family, hcl
from .exporter import render, terraform_variables
from .pins import family_version, provider_pins, terraform_pin
from .readme_tables import job_modules

MANIFEST = ".dativo-scaffold.json"
RERUN = "re-run `dativo-infra terraform scaffold` instead of editing"
EXAMPLE_RERUN = "an example: regenerate it with `python -m terraform_compat.example_roots`"
EXAMPLE_SOURCE_BASE = "../../modules"  # terraform_compat/examples/<name>/ → terraform_compat/modules/<module>
# terraform_compat/examples/<name>: the example job it is generated from (python -m terraform_compat.scaffold --examples)
EXAMPLE_JOBS = {
    "aws-ecs-job": "jobs/acme/stripe_customers_aws.yaml",
    "gcp-cloud-run-job": "jobs/acme/stripe_customers_gcp.yaml",
    "azure-container-apps-job": "jobs/globex/salesforce_accounts_azure.yaml",
    "kubernetes-job-eks": "jobs/acme/hubspot_contacts_kubernetes.yaml",
    "kubernetes-job-gke": "jobs/acme/salesforce_accounts_gke.yaml",
    "kubernetes-job-aks": "jobs/globex/hubspot_contacts_aks.yaml",
}
# checkov's module-source checks that a scaffolded source cannot meet, with the reason written next to the call
CHECKOV_SKIPS = {
    "git": [("CKV_TF_1", "pinned by the family's release tag (semver, never moved: terraform_compat/README.md), not a commit hash")],
    "registry": [],
    "local": [("CKV_TF_1", "a folder of this checkout: no commit to pin"), ("CKV_TF_2", "a folder of this checkout: no tag to pin")],
}
CALL_NAME = {"kubernetes-job": "job"}  # the identity module is "identity"; every other module is "job"
BACKEND = {"aws": "s3", "gcp": "gcs", "azure": "azurerm"}
PROVIDER_BLOCKS = {
    "aws": ('# The job\'s region when it names one, else AWS_REGION or the profile\'s. No default_tags: the modules\n'
            '# put the job\'s tags on each resource themselves.\nprovider "aws" {\n  region = var.region == "" ? null : var.region\n}\n', ""),
    "google": ('# The exported variables name no project: GOOGLE_PROJECT (or -var=project=...) gives it.\n'
               'provider "google" {\n  project = var.project\n  region  = var.region\n}\n',
               'variable "project" {\n  description = "Project of the resources; null means GOOGLE_PROJECT or the gcloud configuration."\n'
               '  type        = string\n  default     = null\n}\n'),
    "azurerm": ('# ARM_SUBSCRIPTION_ID (or -var=subscription_id=...) gives the subscription.\n'
                'provider "azurerm" {\n  features {}\n  subscription_id = var.subscription_id\n}\n',
                'variable "subscription_id" {\n  description = "Subscription of the resources; null means ARM_SUBSCRIPTION_ID."\n'
                '  type        = string\n  default     = null\n}\n'),
    "kubernetes": ('# The cluster: a kubeconfig context (aws eks update-kubeconfig, gcloud container clusters get-credentials,\n'
                   '# az aks get-credentials).\nprovider "kubernetes" {\n  config_path    = var.kubeconfig_path\n'
                   '  config_context = var.kube_context\n}\n',
                   'variable "kube_context" {\n  description = "kubeconfig context of the cluster; null means the current context."\n'
                   '  type        = string\n  default     = null\n}\n\nvariable "kubeconfig_path" {\n'
                   '  description = "kubeconfig file of the cluster."\n  type        = string\n  default     = "~/.kube/config"\n}\n'),
}


@dataclass
class Root:
    """One job's root configuration, rendered: relative file name → text."""

    job: str
    tenant: str
    environment: str
    path: str  # the job file
    modules: tuple[str, ...]
    files: dict[str, str]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ScaffoldResult:
    job: str
    tenant: str
    environment: str
    directory: str
    modules: list[str]
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited since dativo-infra wrote them: left alone (no --force)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"job": self.job, "tenant": self.tenant, "environment": self.environment, "directory": self.directory,
                "modules": self.modules, "written": self.written, "unchanged": self.unchanged, "kept": self.kept, "warnings": self.warnings}


def root_directory(output_dir: str, tenant: str, environment: str, job: str) -> str:
    """``<output-dir>/<tenant>/<environment>/<job>``, refused when it would leave ``output_dir`` (a name with a
    separator or ``..``, or a link inside the folder pointing out of it): job files are tenant input."""
    parts = (tenant, environment, job)
    if any(not p or p in (".", "..") or os.sep in p or (os.altsep and os.altsep in p) for p in parts):
        raise ExportError([Problem(output_dir, f"cannot place a root for {'/'.join(parts)!r} inside the output folder")])
    directory = os.path.join(output_dir, *parts)
    real_out, real_dir = os.path.realpath(output_dir), os.path.realpath(directory)
    if os.path.commonpath([real_out, real_dir]) != real_out:
        raise ExportError([Problem(directory, f"leads out of {output_dir} (a link?): nothing is written there")])
    return directory


def header(resolved: ResolvedJob, modules: tuple[str, ...], what: str) -> str:
    job = resolved.job
    text = (f"Generated by dativo-infra from {job.path}; {RERUN}\n"
            f"(an edited file is kept, and named, unless --force). {what}\n"
            f"tenant {job.tenant}, environment {job.environment}, job {job.name}; modules {' + '.join(modules)} "
            f"(dativo module family {family_version()}).")
    # the job file's path is a tenant's file name: a line break in it must not end the comment (HCL after it would be read)
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def _call_order(modules: tuple[str, ...]) -> list[str]:
    """The identity module first: its outputs are the job module's inputs."""
    return sorted(modules, key=lambda m: m == "kubernetes-job")


def call_name(module: str, modules: tuple[str, ...]) -> str:
    return CALL_NAME.get(module, "identity" if len(modules) > 1 else "job")


def _declarations(variables: dict, modules: tuple[str, ...], cloud: str, runtime: str) -> tuple[list[str], list[str]]:
    """The root's variable declarations (name order), and a warning per free-form variable no module declares."""
    blocks, warnings = [], []
    for name, value in variables.items():
        # declared by both modules of a Kubernetes job: the root requires it when either does (cluster_name on EKS/AKS)
        declaring = [family.variable_blocks(m)[name] for m in modules if name in family.variable_blocks(m)]
        found = next((b for b in declaring if family.required(b)), declaring[0] if declaring else None)
        if found is not None:
            blocks.append(family.declaration(found))
        elif name in family.variable_blocks("ROOT"):
            block = family.declaration(family.variable_blocks("ROOT")[name])
            expected = {"cloud_provider": cloud, "runtime_type": runtime}.get(name)
            if expected:  # the root was made for this cloud and runtime: the file of another kind of job is refused by name
                block = block[:-2] + (f'\n  validation {{\n    condition     = var.{name} == "{expected}"\n'
                                      f'    error_message = "This root configuration calls the modules of {name} \\"{expected}\\": give it the '
                                      f'exported variables of such a job."\n  }}\n}}\n')
            blocks.append(block)
        elif name in _provider_settings(modules):  # terraform.variables.project: providers.tf reads it
            blocks.append(f'variable "{name}" {{\n  description = "The job\'s own terraform.variables.{name}: a setting of providers.tf."\n'
                          f'  type        = {hcl.type_of(value)}\n}}\n')
        else:
            typ = hcl.type_of(value)
            warnings.append(f"terraform.variables.{name} is declared by no module of the family: the root declares it "
                            f"({typ}) so the exported file loads, and passes it nowhere")
            blocks.append(f'variable "{name}" {{\n  description = "The job\'s own terraform.variables.{name}: no module of the family '
                          f'declares it."\n  type        = {typ}\n}}\n')
    return blocks, warnings


def _main_tf(resolved: ResolvedJob, variables: dict, modules: tuple[str, ...], source_base: Optional[str]) -> str:
    sources = family.module_sources(modules, source_base)
    providers = sorted({pin for m in modules for pin in _providers(m)})
    pins = provider_pins()
    lines = [header(resolved, modules, "The module calls, their pinned sources and outputs."), "terraform {",
             f'  required_version = "{terraform_pin().version}"', "", "  required_providers {"]
    for name in providers:
        lines += [f"    {name} = {{", f'      source  = "{pins[name].source}"', f'      version = "{pins[name].version}"', "    }"]
    lines += ["  }", "}", ""]
    outputs_of: dict[str, str] = {}  # output name → the call that gives it (the identity module's come first)
    wired: set[tuple[str, str]] = set()
    for module in _call_order(modules):
        call = call_name(module, modules)
        declared = family.variable_blocks(module)
        args = [(n, f"var.{n}") for n in sorted(declared) if n in variables]
        links = [(n, f"module.{outputs_of[n]}.{n}") for n in sorted(declared) if n in outputs_of and n not in variables]
        wired |= {(outputs_of[n], n) for n, _ in links}
        missing = [n for n in sorted(declared) if family.required(declared[n]) and n not in variables and n not in outputs_of]
        if missing:
            raise ExportError([Problem(resolved.job.path, f"module {module} requires {', '.join(missing)}, which the export does not write")])
        source = sources[module]
        lines += [f'module "{call}" {{'] + [f"  # checkov:skip={check}: {why}" for check, why in CHECKOV_SKIPS[family.source_kind(source.source)]]
        lines += hcl_pairs([("source", hcl.quote(source.source))] + ([("version", hcl.quote(source.version))] if source.version else []))
        lines += [""] + hcl_pairs(args + links) + ["}", ""]
        for name in family.output_blocks(module):
            outputs_of.setdefault(name, call)
    for module in _call_order(modules):  # the outputs of the modules, but those wired into the other module
        call = call_name(module, modules)
        for name, block in family.output_blocks(module).items():
            if outputs_of.get(name) == call and (call, name) not in wired:
                text = family.description(block)
                lines += [f'output "{name}" {{', f"  description = {hcl.quote(text)}", f"  value       = module.{call}.{name}", "}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def hcl_pairs(pairs: list[tuple[str, str]]) -> list[str]:
    """``name = expression`` lines, ``=`` aligned as ``terraform fmt`` aligns a run of single-line attributes."""
    width = max((len(n) for n, _ in pairs), default=0)
    return [f"  {n.ljust(width)} = {e}" for n, e in pairs]


def _providers(module: str) -> list[str]:
    from .pins import MODULES_DIR, module_providers

    return module_providers(MODULES_DIR / module)


def _provider_settings(modules: tuple[str, ...]) -> set[str]:
    """The variables providers.tf reads (project, subscription_id, ...), declared there unless the job exports them."""
    return {b.split('"')[1] for m in modules for p in _providers(m) for b in PROVIDER_BLOCKS[p][1].split("\n\n") if b}


def _providers_tf(resolved: ResolvedJob, modules: tuple[str, ...], exported: dict) -> str:
    names = sorted({p for m in modules for p in _providers(m)}, key=lambda p: p != "kubernetes")
    parts = [header(resolved, modules, "The provider settings of the job's cloud.")]
    parts += [PROVIDER_BLOCKS[name][0] for name in names]
    # a setting the job exports itself (terraform.variables.project, say) is declared once, in variables.tf
    settings = [b for name in names for b in PROVIDER_BLOCKS[name][1].split("\n\n") if b]
    parts += [b.rstrip("\n") + "\n" for b in settings if b.split('"')[1] not in exported]
    return "\n".join(parts)


def _backend_tf(resolved: ResolvedJob, modules: tuple[str, ...]) -> Optional[str]:
    job, infra = resolved.job, resolved.job.infrastructure
    tf = infra.terraform if infra else None
    if infra is None or not tf or not tf.backend_config:
        return None
    bad = [k for k in tf.backend_config if not hcl.is_identifier(k)]
    if bad:
        raise ExportError([Problem(job.path, f"backend_config key {bad[0]!r} is not a Terraform argument name (letters, digits, _ and -)",
                                   field=f"infrastructure.terraform.backend_config.{bad[0]}")])
    body = hcl.dumps(dict(sorted(tf.backend_config.items()))).splitlines()
    kind = BACKEND[infra.provider]
    return (header(resolved, modules, "The state backend, from the job's infrastructure.terraform.backend_config.")
            + f'\nterraform {{\n  backend "{kind}" {{\n' + "".join(f"    {line}\n" for line in body if line) + "  }\n}\n")


def _partial_backend_tf(resolved: ResolvedJob, modules: tuple[str, ...]) -> str:
    kind = BACKEND[resolved.job.infrastructure.provider] if resolved.job.infrastructure else "local"
    return (header(resolved, modules, "The state backend: a partial configuration, completed at init.")
            + "\n# the settings come from the job's terraform.backend_config\n"
            + "# (dativo-infra terraform export --backend-config FILE; terraform init -backend-config=FILE)\n"
            + f'terraform {{\n  backend "{kind}" {{}}\n}}\n')


def build_root(resolved: ResolvedJob, source_base: Optional[str] = None, example: bool = False) -> Root:
    """The job's root configuration, rendered and checked; nothing is written. ``example``: the form of
    terraform_compat/examples/ (the modules of this checkout, a partial backend, no variable values)."""
    if example:
        source_base = source_base or EXAMPLE_SOURCE_BASE
    job = resolved.job
    infra = job.infrastructure
    if infra is None or job.runtime is None:
        raise DativoError([Problem(job.path, "job has no infrastructure block: there is nothing to scaffold")])
    modules = job_modules(job.runtime, infra.provider)
    variables = terraform_variables(resolved)
    declarations, warnings = _declarations(variables, modules, infra.provider, job.runtime)
    named = infra.terraform.module_source if infra.terraform else None
    if named and not any(named.rstrip("/").endswith(f"terraform_compat/modules/{m}") for m in modules):
        warnings.insert(0, f"terraform.module_source {named} is not a module of this family: the root calls {' + '.join(modules)}")
    files = {
        "main.tf": _main_tf(resolved, variables, modules, source_base),
        "providers.tf": _providers_tf(resolved, modules, variables),
        "variables.tf": header(resolved, modules, "Every exported variable, declared as the module that uses it declares it.")
        + "\n" + "\n".join(declarations),
    }
    if example:
        files["backend.tf"] = _partial_backend_tf(resolved, modules)
    else:
        files["terraform.tfvars"] = render(resolved, "hcl", source_base)
        backend = _backend_tf(resolved, modules)
        if backend:
            files["backend.tf"] = backend
    if example:
        files = {name: text.replace(RERUN, EXAMPLE_RERUN, 1) for name, text in files.items()}
    return Root(job.name, job.tenant, job.environment, job.path, modules, dict(sorted(files.items())), warnings)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAX_MANIFEST_BYTES = 1 << 20  # a few hundred bytes when scaffold writes it: anything bigger is not its own
_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _inspect(path: str) -> tuple[str, Optional[str]]:
    """What is at ``path``, never followed through a link nor blocked on a pipe: ("absent", None), ("link", None),
    ("other", None) for a folder, a pipe or a device, or ("file", the SHA-256 of its bytes, whatever their encoding)."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return "link", None
    except FileNotFoundError:
        return "absent", None
    fd = os.open(path, _OPEN)  # O_NONBLOCK: a pipe planted after the lstat still never blocks the open
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "other", None
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
        return "file", digest.hexdigest()
    finally:
        os.close(fd)


def _manifest(path: str) -> dict[str, str]:
    """The digests scaffold last wrote, from ``.dativo-scaffold.json``; {} for anything that is not such a file."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > MAX_MANIFEST_BYTES:
            return {}
        fd = os.open(path, _OPEN)
        try:
            data = json.loads(os.read(fd, MAX_MANIFEST_BYTES + 1).decode("utf-8"))
        finally:
            os.close(fd)
    except (OSError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_all(directory: str, files: list[tuple[str, str]]) -> None:
    """Stage every file beside its target, then rename each over it: a failure while writing (a full disk) leaves
    the root as it was, never half of a new one. Staged names start with TEMP_PREFIX (``--clean`` removes leftovers)."""
    staged: list[tuple[str, str]] = []
    try:
        for name, text in files:
            temp = os.path.join(directory, f"{TEMP_PREFIX}{name}")
            write_atomic(temp, text, durable=False)
            staged.append((temp, os.path.join(directory, name)))
        for temp, path in staged:
            os.replace(temp, path)
    except BaseException:
        for temp, _ in staged:
            try:
                os.unlink(temp)
            except OSError:
                pass
        raise


def write_root(root: Root, output_dir: str, force: bool = False) -> ScaffoldResult:
    """Write the files that changed; keep (and name) a file edited since it was written, unless ``force``.

    Nothing is written when one of the root's names is a folder, a pipe or a device (exit 2, the file named);
    a link is never read or written through (kept, or replaced with ``force``).
    """
    directory = root_directory(output_dir, root.tenant, root.environment, root.job)
    result = ScaffoldResult(root.job, root.tenant, root.environment, directory, list(root.modules), warnings=list(root.warnings))
    manifest_path = os.path.join(directory, MANIFEST)
    try:
        written = _manifest(manifest_path)
        changes: list[tuple[str, str]] = []
        for name, text in [*root.files.items(), (MANIFEST, "")]:
            path = os.path.join(directory, name)
            kind, current = _inspect(path)
            if kind == "other":
                raise ExportError([Problem(path, "is not a regular file (a folder, a pipe or a device): nothing is written to this root; "
                                                 "remove it")])
            if name == MANIFEST:
                break
            new = _digest(text)
            if kind == "link" and not force:  # never read or write through a link someone put there
                result.kept.append(name)
                continue
            if current == new:
                result.unchanged.append(name)
            elif kind == "file" and not force and written.get(name) != current:
                result.kept.append(name)  # not what dativo-infra wrote last: someone's edit, or someone's file
                continue
            else:
                changes.append((name, text))
                result.written.append(name)
            written[name] = new
        if changes or kind != "file":
            changes.append((MANIFEST, json.dumps(dict(sorted(written.items())), indent=2) + "\n"))
        _write_all(directory, changes)
        for name in sorted(set(written) - set(root.files)):  # written for an earlier version of the job: left, and said
            if os.sep not in name and name != MANIFEST and _inspect(os.path.join(directory, name)) == ("file", written[name]):
                result.warnings.append(f"{name} was written for an earlier version of the job, which no longer gives it "
                                       "(a backend_config removed?): it is left as it is; delete it if the job's root should not have it")
    except OSError as exc:
        raise ExportError([Problem(directory, f"cannot write: {exc.strerror or exc}")]) from None
    return result
