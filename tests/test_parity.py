"""docs/parity.md stays true: its tables are derived again from both paths and compared.

- Pulumi side: the offline plans (mock runtime, real provider classes) of the example jobs, plus
  temporary jobs written here that switch every optional resource on (created bucket, created
  cluster, schedule, namespace, each cloud behind Kubernetes) and off (existing identities, no
  storage). The examples in jobs/ are left as they are (golden files depend on them).
- Terraform side: the ``resource`` blocks of terraform_compat/modules/<module>/*.tf, parsed with
  python-hcl2 (``data`` blocks look things up and create nothing).
- Doc side: the tables between the parity-table markers, one section per module.

A job's resources go to the modules of its runtime (``job_modules``): one module, or for a Kubernetes
job two, kubernetes-job (the ``kubernetes`` package's resources) and the identity module of the cloud
behind the cluster (that cloud's package's resources); each module's table lists its share.

Each drift names the module, the type and the side it is missing from.
"""
from __future__ import annotations

import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import hcl2
import pytest
import yaml

from dativo_infra.components import COMPONENTS
from dativo_infra.jobs import load_jobs
from terraform_compat.readme_tables import IDENTITY_MODULE, MODULES_DIR, RUNTIME_MODULE, STORAGE_MODULE, job_modules

from . import tfmodules
from .conftest import JOBS, ROOT
from .plans import plan, variables_of

DOC = ROOT / "docs" / "parity.md"
START, END = "<!-- parity-table:start -->", "<!-- parity-table:end -->"
HEADER = ["Role", "Pulumi type", "Terraform type", "When"]

# effective runtime (dativo_infra.components.COMPONENTS) and cloud → the Terraform modules of the same resources
CLOUDS = sorted(IDENTITY_MODULE)
MODULES = sorted({m for runtime in RUNTIME_MODULE for cloud in CLOUDS for m in job_modules(runtime, cloud)})
# the Pulumi package whose resources each module provisions (how a Kubernetes job's resources split)
PACKAGE_OF = {"aws-ecs-job": "aws", "gcp-cloud-run-job": "gcp", "azure-container-apps-job": "azure-native", "kubernetes-job": "kubernetes",
              "kubernetes-identity-aws": "aws", "kubernetes-identity-gcp": "gcp", "kubernetes-identity-azure": "azure-native"}

# A row pairs its types in order; the n-th Pulumi type and the n-th Terraform type are one cloud resource.
# The Terraform type is the provider's prefix and the Pulumi class name in snake case (``aws:iam/rolePolicy:RolePolicy``
# ↔ ``aws_iam_role_policy``, ``kubernetes:batch/v1:CronJob`` ↔ ``kubernetes_cron_job_v1``), but for these:
TF_PREFIX = {"aws": "aws_", "gcp": "google_", "azure-native": "azurerm_", "kubernetes": "kubernetes_"}
RENAMED = {
    # azurerm names blob containers after the storage account's sub-resource; azure-native after the blob service's
    "azure-native:storage:BlobContainer": "azurerm_storage_container",
}


# --- the doc ---------------------------------------------------------------------------------------

TYPE_LIST = re.compile(r"`[^`]+`(?:\s*,\s*`[^`]+`)*")
TERM = re.compile(r'(?P<neg>!)?(?P<name>[a-z_][a-z0-9_]*)(?:\s*(?P<op>==|!=)\s*"(?P<value>[^"]*)")?')
HEADING = re.compile(r"## (?P<module>\S+) \(`(?P<component>[^`]+)`\)")


@dataclass(frozen=True)
class Term:
    name: str
    negated: bool = False
    op: Optional[str] = None
    value: Optional[str] = None


@dataclass(frozen=True)
class Row:
    module: str
    line: int
    role: str
    pulumi: tuple[str, ...]
    terraform: tuple[str, ...]
    when: tuple[Term, ...]  # empty: always
    when_text: str

    def describe(self) -> str:
        return f"{self.module}: row {self.role!r} (docs/parity.md line {self.line})"


@dataclass
class Section:
    module: str
    component: str
    rows: list[Row]


def split_cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def parse_types(cell: str, where: str, side: str, problems: list[str]) -> tuple[str, ...]:
    """Backticked types, comma-separated; or ``none: <reason>`` for a resource only the other side has."""
    if cell.startswith("none:"):
        if not cell[len("none:"):].strip():
            problems.append(f"{where}: the {side} side says 'none:' without a reason")
        return ()
    if not TYPE_LIST.fullmatch(cell):
        problems.append(f"{where}: {side} cell {cell!r} is not a comma-separated list of backticked types "
                        "(write every type out, no '…'; a one-sided row says 'none: <reason>')")
    return tuple(re.findall(r"`([^`]+)`", cell))


def parse_when(cell: str, where: str, problems: list[str]) -> tuple[Term, ...]:
    if cell == "always":
        return ()
    match = re.fullmatch(r"`([^`]+)`", cell)
    terms = []
    for text in (match.group(1).split("&&") if match else []):
        term = TERM.fullmatch(text.strip())
        if term is None or (term["neg"] and term["op"]):
            problems.append(f"{where}: When term {text.strip()!r} is not `name`, `!name`, `name == \"v\"` or `name != \"v\"`")
            continue
        terms.append(Term(term["name"], bool(term["neg"]), term["op"], term["value"]))
    if not match:
        problems.append(f"{where}: When {cell!r} is neither 'always' nor one backticked condition")
    return tuple(terms)


def parse_doc(text: str) -> tuple[dict[str, Section], list[str]]:
    """Sections by module, and every formatting problem of the tables between the markers."""
    problems: list[str] = []
    if START not in text or END not in text:
        return {}, [f"docs/parity.md has no {START} … {END} markers"]
    offset = text[: text.index(START)].count("\n") + 1
    sections: dict[str, Section] = {}
    section: Optional[Section] = None
    table: list[tuple[int, list[str]]] = []

    def close_table() -> None:
        if not table:
            return
        line, header = table[0]
        if section is None:
            problems.append(f"docs/parity.md line {line}: a table outside a '## <module> (`<component type>`)' section")
        elif header != HEADER:
            problems.append(f"docs/parity.md line {line}: {section.module} table header is {header}, expected {HEADER}")
        else:
            for number, cells in table[2:]:
                where = f"{section.module}: docs/parity.md line {number}"
                if len(cells) != len(HEADER):
                    problems.append(f"{where}: {len(cells)} cells, expected {len(HEADER)}")
                    continue
                role, pulumi_cell, terraform_cell, when_cell = cells
                row = Row(section.module, number, role, parse_types(pulumi_cell, where, "Pulumi", problems),
                          parse_types(terraform_cell, where, "Terraform", problems), parse_when(when_cell, where, problems), when_cell)
                section.rows.append(row)
        table.clear()

    body = text[text.index(START) + len(START): text.index(END)]
    for number, line in enumerate(body.splitlines(), start=offset):
        if line.startswith("|"):
            table.append((number, split_cells(line)))
            continue
        close_table()
        if line.startswith("## "):
            heading = HEADING.fullmatch(line.strip())
            if heading is None:
                problems.append(f"docs/parity.md line {number}: heading {line!r} is not '## <module> (`<component type>`)'")
                section = None
            elif heading["module"] in sections:
                problems.append(f"docs/parity.md line {number}: a second section for {heading['module']}")
                section = None
            else:
                section = sections[heading["module"]] = Section(heading["module"], heading["component"], [])
    close_table()
    for name, sec in sections.items():
        if not sec.rows:
            problems.append(f"{name}: its section in docs/parity.md has no table rows")
    return sections, problems


def documented(sections: dict[str, Section], module: str, side: str) -> set[str]:
    return {t for row in section_of(sections, module).rows for t in getattr(row, side)}


def section_of(sections: dict[str, Section], module: str) -> Section:
    assert module in sections, f"{module}: docs/parity.md has no '## {module} (`<component type>`)' section between its markers"
    return sections[module]


def drift(module: str, side: str, derived: set[str], listed: set[str], source: str) -> list[str]:
    """Each type one side has and the other lacks, as a sentence naming the module, the type and the side."""
    return ([f"{module}: {side} type `{t}` is provisioned by {source} but missing from the {side} column of its table in docs/parity.md"
             for t in sorted(derived - listed)]
            + [f"{module}: {side} type `{t}` is in the {side} column of its table in docs/parity.md but {source} provisions no such resource"
               for t in sorted(listed - derived)])


# --- the Terraform modules -------------------------------------------------------------------------


@dataclass(frozen=True)
class TfResource:
    type: str
    name: str
    conditional: bool  # count, or for_each over a variable or local: created or not depending on the variables


def terraform_resources(module: str) -> list[TfResource]:
    """The module's resources and those of the storage submodule it calls (tests/tfmodules.py); data sources create nothing."""
    out = []
    for rtype, name, body in tfmodules.resources(module):
        for_each = str(body.get("for_each", ""))
        conditional = "count" in body or bool(re.search(r"\b(var|local)\.", for_each))
        out.append(TfResource(rtype, name, conditional))
    return out


# --- the Pulumi plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedJob:
    stack: str
    name: str
    module: str
    variables: dict
    types: frozenset  # custom resources: the cloud resources
    components: frozenset  # component resources (the dativo:... type of the job's component)

    def describe(self) -> str:
        return f"job {self.name} of stack {self.stack}"


COMMON = {
    "tenant_id": "parity", "environment": "test",
    "source_connector": "stripe", "source_connector_path": "/app/connectors/stripe.yaml",
    "target_connector": "iceberg", "target_connector_path": "/app/connectors/iceberg.yaml",
    "asset": "stripe_customers", "asset_path": "/app/assets/stripe/v1.0/customers.yaml",
}
AWS_KEY = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
GCP_KEY = "projects/parity-project/locations/europe-west1/keyRings/dativo/cryptoKeys/etl"
AWS_NETWORK = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"], "private_networking": True}
EXISTING_AZURE_IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-parity/providers/"
                           "Microsoft.ManagedIdentity/userAssignedIdentities/existing")
# job file name → infrastructure: "all" switches every optional resource of the runtime on, "bare" every one off
EXTRA_JOBS = {
    "ecs_all": {"provider": "aws", "networking": AWS_NETWORK,
                "runtime": {"type": "ecs", "cluster_name": "parity-cluster", "create_cluster": True, "schedule": "0 2 * * *"},
                "storage": {"bucket": "parity-ecs-lake", "prefix": "raw", "kms_key_id": AWS_KEY, "create_bucket": True}},
    "ecs_bare": {"provider": "aws", "networking": AWS_NETWORK,
                 "runtime": {"type": "ecs", "cluster_name": "parity-cluster", "service_account": "arn:aws:iam::123456789012:role/existing"}},
    "cloud_run_all": {"provider": "gcp", "region": "europe-west1", "runtime": {"type": "cloud_run", "schedule": "0 3 * * *"},
                      "storage": {"bucket": "parity-gcs-lake", "prefix": "raw", "kms_key_id": GCP_KEY, "create_bucket": True}},
    "cloud_run_bare": {"provider": "gcp", "region": "europe-west1",
                       "runtime": {"type": "cloud_run", "service_account": "runner@parity-project.iam.gserviceaccount.com"}},
    "container_apps_all": {"provider": "azure", "region": "westeurope", "resource_group": "rg-parity",
                           "runtime": {"type": "container_apps", "cluster_name": "cae-parity", "schedule": "0 4 * * *"},
                           "storage": {"bucket": "paritylake/lake", "prefix": "raw", "create_bucket": True}},
    "container_apps_bare": {"provider": "azure", "region": "westeurope", "resource_group": "rg-parity",
                            "runtime": {"type": "container_apps", "cluster_name": "cae-parity", "service_account": EXISTING_AZURE_IDENTITY}},
    "k8s_aws_all": {"provider": "aws",
                    "runtime": {"type": "kubernetes", "cluster_name": "parity-eks", "namespace": "parity-etl", "create_namespace": True,
                                "schedule": "0 5 * * *"},
                    "storage": {"bucket": "parity-k8s-lake", "prefix": "raw", "kms_key_id": AWS_KEY, "create_bucket": True}},
    "k8s_aws_bare": {"provider": "aws", "runtime": {"type": "kubernetes", "cluster_name": "parity-eks", "namespace": "parity-etl"}},
    "k8s_gcp_all": {"provider": "gcp", "region": "europe-west1",
                    "runtime": {"type": "kubernetes", "cluster_name": "parity-gke", "namespace": "parity-etl", "create_namespace": True},
                    "storage": {"bucket": "parity-k8s-gcs", "prefix": "raw", "kms_key_id": GCP_KEY, "create_bucket": True}},
    "k8s_gcp_bare": {"provider": "gcp", "region": "europe-west1",
                     "runtime": {"type": "kubernetes", "cluster_name": "parity-gke", "namespace": "parity-etl"}},
    "k8s_azure_all": {"provider": "azure", "region": "westeurope", "resource_group": "rg-parity",
                      "runtime": {"type": "kubernetes", "cluster_name": "parity-aks", "namespace": "parity-etl", "create_namespace": True},
                      "storage": {"bucket": "paritylake/k8s", "prefix": "raw", "create_bucket": True}},
    "k8s_azure_bare": {"provider": "azure", "resource_group": "rg-parity",
                       "runtime": {"type": "kubernetes", "cluster_name": "parity-aks", "namespace": "parity-etl"}},
}


def plan_jobs(jobs_dir: Path, orphans: list[str]) -> list[PlannedJob]:
    """Every job under jobs_dir, planned stack by stack, with its module and exported variables."""
    loaded = load_jobs([str(jobs_dir)])
    assert loaded.ok, "job files do not load:\n" + "\n".join(p.render() for p in loaded.problems)
    stacks = sorted({(job.config.tenant_id, job.config.environment) for job in loaded.jobs if job.infrastructure is not None})
    out = []
    for tenant, environment in stacks:
        stack = f"{tenant}-{environment}"
        jobs = {job.name: job for job in load_jobs([str(jobs_dir)], tenant=tenant, environment=environment).jobs if job.infrastructure is not None}
        resources = defaultdict(list)
        for resource in plan(tenant, environment, str(jobs_dir)).resources:
            if resource.job in jobs:
                resources[resource.job].append(resource)
            elif not resource.type.startswith("pulumi:providers:"):
                orphans.append(f"{stack}: {resource.type} {resource.name} belongs to no job (job={resource.job!r}), so to no table")
        for name, job in sorted(jobs.items()):
            assert job.runtime in COMPONENTS, f"{job.path}: runtime {job.runtime!r} has no component in COMPONENTS"
            modules = job_modules(job.runtime, job.infrastructure.provider)
            custom = {r.type for r in resources[name] if r.custom}
            components = frozenset(r.type for r in resources[name] if not r.custom)
            for module in modules:
                share = frozenset(t for t in custom if package_of(t) == PACKAGE_OF[module])
                out.append(PlannedJob(stack, name, module, variables_of(job), share, components))
            orphans += [f"{stack}: {t} of job {name} is of no package of its modules {list(modules)}, so in no table"
                        for t in sorted(custom) if package_of(t) not in {PACKAGE_OF[m] for m in modules}]
    return out


def package_of(pulumi_type: str) -> str:
    return pulumi_type.split(":", 1)[0]


@dataclass
class Planned:
    jobs: list[PlannedJob]  # one per job and module: a Kubernetes job is two, each with its module's share of the types
    orphans: list[str]

    def of(self, module: str) -> list[PlannedJob]:
        return [job for job in self.jobs if job.module == module]

    def types(self, module: str) -> set[str]:
        return {t for job in self.of(module) for t in job.types}


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Planned:
    extra = tmp_path_factory.mktemp("parity") / "jobs"
    shutil.copytree(JOBS / "assets", extra / "assets")
    for name, infrastructure in EXTRA_JOBS.items():
        path = extra / "parity" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({**COMMON, "infrastructure": infrastructure}, sort_keys=False), encoding="utf-8")
    orphans: list[str] = []
    jobs = plan_jobs(JOBS, orphans) + plan_jobs(extra, orphans)
    assert {job.name.replace("-", "_") for job in jobs if job.stack == "parity-test"} == set(EXTRA_JOBS)
    return Planned(jobs, orphans)


@pytest.fixture(scope="module")
def doc() -> tuple[dict[str, Section], list[str]]:
    return parse_doc(DOC.read_text(encoding="utf-8"))


# --- When ------------------------------------------------------------------------------------------


def holds(row: Row, variables: dict, job: PlannedJob) -> bool:
    result = True
    for term in row.when:
        assert term.name in variables, (f"{row.describe()}: When names {term.name!r}, which the {row.module} variables of "
                                        f"{job.describe()} do not have (known: {', '.join(sorted(variables))})")
        value = variables[term.name]
        if term.op is None:
            assert isinstance(value, bool), f"{row.describe()}: When tests {term.name!r} as a bool, but it is {value!r}"
            result = result and (value != term.negated)
        else:
            assert isinstance(value, str), f"{row.describe()}: When compares {term.name!r} with a string, but it is {value!r}"
            result = result and ((value == term.value) == (term.op == "=="))
    return result


def snake(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)).lower()


def corresponds(pulumi_type: str, terraform_type: str) -> bool:
    if pulumi_type in RENAMED:
        return RENAMED[pulumi_type] == terraform_type
    package, _, cls = pulumi_type.split(":")
    prefix = TF_PREFIX.get(package)
    base = re.sub(r"_v\d+$", "", terraform_type)
    return prefix is not None and terraform_type.startswith(prefix) and (base == prefix + snake(cls) or base.endswith("_" + snake(cls)))


# --- the tests -------------------------------------------------------------------------------------


def test_doc_modules_are_the_module_folders_and_the_runtimes(doc):
    sections, _ = doc
    # the storage submodules are part of the modules that call them (their tables list their resources)
    folders = sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir() and any(p.glob("*.tf")) and p.name not in STORAGE_MODULE.values())
    assert sorted(RUNTIME_MODULE) == sorted(COMPONENTS), (
        f"runtimes with a component {sorted(COMPONENTS)} differ from the runtimes mapped to modules {sorted(RUNTIME_MODULE)}")
    assert MODULES == folders, f"the modules of the runtimes in COMPONENTS {MODULES} differ from terraform_compat/modules {folders}"
    assert sorted(PACKAGE_OF) == MODULES
    assert sorted(sections) == folders, (
        f"docs/parity.md has tables for {sorted(sections)}; terraform_compat/modules has {folders} "
        f"(missing from the doc: {sorted(set(folders) - set(sections))}, not a module: {sorted(set(sections) - set(folders))})")


def test_doc_tables_are_well_formed(doc):
    _, problems = doc
    assert not problems, "docs/parity.md:\n" + "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_pulumi_types_match_the_table(module, doc, planned):
    sections, _ = doc
    derived = planned.types(module)
    assert derived, f"{module}: no planned job uses this module's runtime"
    problems = drift(module, "Pulumi", derived, documented(sections, module, "pulumi"), "the Pulumi component (offline plans)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_terraform_types_match_the_table(module, doc):
    sections, _ = doc
    derived = {r.type for r in terraform_resources(module)}
    assert derived, f"{module}: terraform_compat/modules/{module} declares no resource"
    problems = drift(module, "Terraform", derived, documented(sections, module, "terraform"), f"terraform_compat/modules/{module}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_heading_names_the_component_type(module, doc, planned):
    sections, _ = doc
    section = section_of(sections, module)
    components = {t for job in planned.of(module) for t in job.components}
    assert components == {section.component}, (
        f"{module}: the heading names component `{section.component}`, the plans register {sorted(components)}")


def test_every_planned_resource_belongs_to_a_job_and_a_module(planned):
    assert planned.jobs
    assert not planned.orphans, "\n".join(planned.orphans)


@pytest.mark.parametrize("module", MODULES)
def test_rows_pair_corresponding_types(module, doc):
    sections, _ = doc
    problems = []
    for row in section_of(sections, module).rows:
        if not row.pulumi and not row.terraform:
            problems.append(f"{row.describe()}: no type on either side")
        elif row.pulumi and row.terraform:
            if len(row.pulumi) != len(row.terraform):
                problems.append(f"{row.describe()}: {len(row.pulumi)} Pulumi types beside {len(row.terraform)} Terraform types; "
                                "a row pairs them in order (a resource only one side has goes on its own row, 'none: <reason>')")
            for p, t in zip(row.pulumi, row.terraform, strict=False):
                if not corresponds(p, t):
                    problems.append(f"{row.describe()}: Pulumi `{p}` is paired with Terraform `{t}`, which is not the same resource")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_when_matches_every_plan(module, doc, planned):
    """Per planned job: the rows whose When holds list exactly the types of its resources; each When is seen true and false."""
    sections, _ = doc
    rows = section_of(sections, module).rows
    jobs = planned.of(module)
    assert jobs, f"{module}: no planned job uses this module's runtime"
    problems, outcomes = [], defaultdict(set)
    for job in jobs:
        on = [row for row in rows if holds(row, job.variables, job)]
        for row in rows:
            outcomes[row].add(row in on)
        for row in on:
            for t in row.pulumi:
                if t not in job.types:
                    problems.append(f"{row.describe()}: When {row.when_text} holds for {job.describe()}, whose plan has no `{t}`")
        for t in sorted(job.types - {t for row in on for t in row.pulumi}):
            problems.append(f"{module}: {job.describe()} provisions `{t}`, but no row whose When holds for it lists that type")
    for row in rows:
        if row.when and outcomes[row] != {True, False}:
            seen = "true" if True in outcomes[row] else "false"
            problems.append(f"{row.describe()}: When {row.when_text} is {seen} for every planned job; add a job to EXTRA_JOBS "
                            "that switches it the other way")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_when_matches_the_module_counts(module, doc):
    """'always' rows are unconditional resources of the module; the other rows have a count (or for_each over variables)."""
    sections, _ = doc
    blocks = defaultdict(list)
    for resource in terraform_resources(module):
        blocks[resource.type].append(resource)
    problems = []
    for row in section_of(sections, module).rows:
        for t in row.terraform:
            if not blocks[t]:
                continue  # reported by test_terraform_types_match_the_table
            if not row.when and all(r.conditional for r in blocks[t]):
                problems.append(f"{row.describe()}: When is always, but every `{t}` of terraform_compat/modules/{module} has a count")
            if row.when and not any(r.conditional for r in blocks[t]):
                problems.append(f"{row.describe()}: When is {row.when_text}, but `{t}` of terraform_compat/modules/{module} has no count")
    assert not problems, "\n".join(problems)


SAMPLE = f"""intro
{START}
## mod-a (`dativo:x:A`)

| Role | Pulumi type | Terraform type | When |
|---|---|---|---|
| cluster | `aws:ecs/cluster:Cluster` | `aws_ecs_cluster` | `create_cluster && cloud_provider == "aws"` |
| bucket and its versioning | `aws:s3/bucket:Bucket`, `aws:s3/bucketVersioning:BucketVersioning` | `aws_s3_bucket`, `aws_s3_bucket_versioning` | always |
| a lookup only | none: a `data` source, not a resource | `aws_iam_role` | `!create_cluster` |
{END}
"""


def test_the_checks_catch_drift():
    """The checks themselves: a drifted or abbreviated table fails, naming the module, the type and the side."""
    sections, problems = parse_doc(SAMPLE)
    assert not problems
    rows = sections["mod-a"].rows
    assert sections["mod-a"].component == "dativo:x:A" and [r.line for r in rows] == [7, 8, 9]
    assert rows[1].terraform == ("aws_s3_bucket", "aws_s3_bucket_versioning") and rows[2].pulumi == ()

    planned = {"aws:ecs/cluster:Cluster", "aws:ecs/taskDefinition:TaskDefinition", "aws:s3/bucket:Bucket"}
    messages = drift("mod-a", "Pulumi", planned, documented(sections, "mod-a", "pulumi"), "the component")
    assert messages == [
        "mod-a: Pulumi type `aws:ecs/taskDefinition:TaskDefinition` is provisioned by the component but missing from the Pulumi column of its table in docs/parity.md",
        "mod-a: Pulumi type `aws:s3/bucketVersioning:BucketVersioning` is in the Pulumi column of its table in docs/parity.md but the component provisions no such resource",
    ]
    messages = drift("mod-a", "Terraform", {"aws_ecs_cluster", "aws_s3_bucket", "aws_s3_bucket_versioning"},
                     documented(sections, "mod-a", "terraform"), "the module")
    assert messages == ["mod-a: Terraform type `aws_iam_role` is in the Terraform column of its table in docs/parity.md but the module provisions no such resource"]

    job = PlannedJob("t-e", "j", "mod-a", {}, frozenset(), frozenset())
    assert holds(rows[0], {"create_cluster": True, "cloud_provider": "aws"}, job)
    assert not holds(rows[0], {"create_cluster": True, "cloud_provider": "gcp"}, job)
    assert holds(rows[2], {"create_cluster": False}, job) and holds(rows[1], {}, job)
    with pytest.raises(AssertionError, match="When names .create_cluster., which the mod-a variables of job j of stack t-e do not have"):
        holds(rows[0], {"cloud_provider": "aws"}, job)

    assert corresponds("kubernetes:batch/v1:CronJob", "kubernetes_cron_job_v1")
    assert corresponds("gcp:serviceaccount/iAMMember:IAMMember", "google_service_account_iam_member")
    assert not corresponds("azure-native:storage:BlobContainer", "azurerm_blob_container")
    assert not corresponds("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "google_storage_bucket_iam_member")
    assert not corresponds("aws:iam/role:Role", "aws_iam_role_policy")

    _, problems = parse_doc(SAMPLE.replace("`aws_s3_bucket`, `aws_s3_bucket_versioning`", "`aws_s3_bucket`, …"))
    assert len(problems) == 1 and problems[0].startswith("mod-a: docs/parity.md line 8: Terraform cell") and "'…'" in problems[0], problems
    _, problems = parse_doc(SAMPLE.replace("none: a `data` source, not a resource", "none:"))
    assert problems == ["mod-a: docs/parity.md line 9: the Pulumi side says 'none:' without a reason"]
    _, problems = parse_doc(SAMPLE.replace("`!create_cluster`", "when there is no cluster"))
    assert problems == ["mod-a: docs/parity.md line 9: When 'when there is no cluster' is neither 'always' nor one backticked condition"]


def terraform_outputs(module: str) -> set[str]:
    with open(MODULES_DIR / module / "outputs.tf", encoding="utf-8") as handle:
        return {name.strip('"') for block in hcl2.load(handle).get("output", []) for name in block}


def test_every_pulumi_output_has_a_terraform_output_of_the_same_name():
    """Dagster and scripts read the same names from either path. The Pulumi side nests the launch settings
    under `dagster`; the modules give them as flat outputs (run_tags, dagster_k8s_config, ...). A Kubernetes
    job's outputs come from its two modules (cloud_identity and tags from the identity module)."""
    seen: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for tenant, environment in (("acme", "prod"), ("globex", "prod"), ("globex", "staging")):
        jobs = {j.name: j for j in load_jobs([str(JOBS)], tenant=tenant, environment=environment).jobs if j.infrastructure}
        for name, outputs in plan(tenant, environment).outputs.items():
            seen[job_modules(jobs[name].runtime, jobs[name].infrastructure.provider)] |= set(outputs) - {"dagster"}
    assert {m for modules in seen for m in modules} == set(MODULES)
    for modules, names in sorted(seen.items()):
        missing = sorted(names - {name for module in modules for name in terraform_outputs(module)})
        assert not missing, f"{' + '.join(modules)}: Pulumi outputs {missing} have no Terraform output of that name in their outputs.tf"
