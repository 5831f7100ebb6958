"""Issue 13, "Done means": an IAM evaluation of every tenant pair, including hostile job files, finds 0 cross-tenant grants.

A tree of job files for four tenants (``acme``, ``acme-eu`` — a name that ``acme`` is a prefix of —,
``globex``, ``initech``) on a bucket they share, on per-tenant buckets and on a bucket ``acme``
creates, plus a shared ``${TENANT_ID}`` file, goes through the real pipeline (``dativo-infra validate``
and ``dativo-infra plan --all`` as subprocesses, and the fleet's own per-stack plan in-process).
Hostile job files must be rejected, naming the file, and must not reach any plan. Every identity
policy of every plan is then evaluated (tests/iam_eval.py, our own evaluator: see its docstring)
for every ordered pair of tenants, every object action, every key of the other tenant and the
boundary keys around it, and ``s3:ListBucket`` with every ``s3:prefix`` that would list the other
tenant's keys. Each job must still reach its own objects, so the evaluation is not vacuous.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from .conftest import JOBS
from .iam_eval import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Unsupported, evaluate, glob_match

CLI = str(Path(sys.executable).with_name("dativo-infra"))
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dativo-ingest:1.4.0"
ENV = "prod"
TENANTS = ("acme", "acme-eu", "globex", "initech")
SHARED = "dativo-shared-lake"
SHARED_RUN = "dativo-shared-runs"  # named only by the shared ${TENANT_ID} file
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

# -- the tree -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One job file: where it goes and what it names."""

    file: str  # relative to jobs/
    tenant: str  # "${TENANT_ID}" for a shared file
    bucket: str
    prefix: Optional[str]  # None: no prefix key at all
    create: bool = False
    tags: dict = field(default_factory=dict)
    schedule: bool = False
    only_for: tuple[str, ...] = ()  # hostile shared file: tenants it is legitimately fine for

    @property
    def job(self) -> str:
        from dativo_infra.jobs.loader import job_name

        return job_name(self.file)


def job_yaml(spec: Spec) -> str:
    q = json.dumps  # JSON strings are YAML strings: every hostile value is written as it is
    storage = [f"    bucket: {q(spec.bucket)}"]
    if spec.prefix is not None:
        storage.append(f"    prefix: {q(spec.prefix)}")
    if spec.create:
        storage.append("    create_bucket: true")
    tags = "".join(f"    {q(k)}: {q(v)}\n" for k, v in spec.tags.items())
    return (
        f"tenant_id: {q(spec.tenant)}\nenvironment: {ENV}\n"
        "source_connector: postgres\nsource_connector_path: /app/connectors/postgres.yaml\n"
        "target_connector: iceberg\ntarget_connector_path: /app/connectors/iceberg.yaml\n"
        "asset: postgres_orders\nasset_path: ../assets/postgres/v1.0/orders.yaml\n"
        "infrastructure:\n  provider: aws\n  runtime:\n    type: ecs\n    cluster_name: dativo-shared-prod\n"
        + ("    schedule:\n      cron: \"0 2 * * *\"\n      timezone: UTC\n" if spec.schedule else "")
        + "  compute:\n    cpu: \"256\"\n    memory: \"512\"\n"
        "  networking:\n    vpc_id: vpc-0fedcba9876543210\n    subnet_ids: [subnet-0aaaabbbbccccdddd]\n"
        "  storage:\n" + "\n".join(storage) + "\n"
        + (f"  tags:\n{tags}" if tags else "")
        + "finops:\n  cost_center: OPS-310\n"
    )


LEGIT = [
    Spec("acme/orders.yaml", "acme", SHARED, "acme/raw/orders", schedule=True),  # scheduled: a run-task policy too
    Spec("acme/customers.yaml", "acme", SHARED, "acme"),  # the bare tenant segment: acme/*, never acme-eu/*
    Spec("acme/private.yaml", "acme", "acme-private-lake", None),  # its own bucket, no prefix: the whole bucket
    Spec("acme/owned.yaml", "acme", "acme-owned-lake", "landing", create=True),  # the bucket acme creates
    Spec("acme-eu/orders.yaml", "acme-eu", SHARED, "acme-eu/raw/orders"),
    Spec("globex/orders.yaml", "globex", SHARED, "globex/raw/orders/"),  # a trailing slash is stripped
    Spec("globex/private.yaml", "globex", "globex-private-lake", "raw"),
    Spec("initech/orders.yaml", "initech", SHARED, "initech/x"),
    Spec("initech/guest.yaml", "initech", "acme-owned-lake", "initech/in"),  # allowed by initech's stack (allowedBuckets)
    Spec("shared/customers_shared.yaml", "${TENANT_ID}", SHARED_RUN, "${TENANT_ID}/shared/customers"),
]

CYR_A, FULL_A = "\u0430", "\uff41"  # Cyrillic a, fullwidth a
HOSTILE = [
    Spec("globex/h-acme-raw.yaml", "globex", SHARED, "acme/raw"),
    Spec("globex/h-no-prefix.yaml", "globex", SHARED, None),
    Spec("globex/h-empty-prefix.yaml", "globex", SHARED, ""),
    Spec("globex/h-bare-acme.yaml", "globex", SHARED, "acme"),
    Spec("globex/h-acme-eu.yaml", "globex", SHARED, "acme-eu/x"),
    Spec("globex/h-policy-variable.yaml", "globex", SHARED, "${aws:PrincipalTag/dativo:tenant}/x"),
    Spec("globex/h-policy-variable-bucket.yaml", "globex", "${aws:PrincipalTag/bucket}", "globex/x"),
    Spec("globex/h-tag-override.yaml", "globex", SHARED, "globex/tagged", tags={"dativo:tenant": "acme"}),
    Spec("globex/h-created-own-prefix.yaml", "globex", "acme-owned-lake", "globex/x"),
    Spec("globex/h-created-landing.yaml", "globex", "acme-owned-lake", "landing"),
    Spec("globex/h-created-no-prefix.yaml", "globex", "acme-owned-lake", None),
    Spec("globex/h-dotdot.yaml", "globex", SHARED, "globex/../acme/raw"),
    Spec("globex/h-dotdot-lead.yaml", "globex", SHARED, "../acme"),
    Spec("globex/h-star.yaml", "globex", SHARED, "*"),
    Spec("globex/h-globex-star.yaml", "globex", SHARED, "globex/*"),
    Spec("globex/h-acme-star.yaml", "globex", SHARED, "acme*"),
    Spec("globex/h-question.yaml", "globex", SHARED, "?cme/raw"),
    Spec("globex/h-cyrillic-prefix.yaml", "globex", SHARED, f"{CYR_A}cme/raw"),
    Spec("globex/h-fullwidth-prefix.yaml", "globex", SHARED, f"{FULL_A}cme/raw"),
    Spec("globex/h-division-slash.yaml", "globex", SHARED, "globex\u2215..\u2215acme"),
    Spec("globex/h-zero-width.yaml", "globex", SHARED, "acme\u200b/raw"),
    Spec("globex/h-cyrillic-bucket.yaml", "globex", f"dativo-sh{CYR_A}red-lake", "acme/raw"),
    Spec("globex/h-trailing-slash.yaml", "globex", SHARED, "acme/"),
    Spec("globex/h-leading-trailing.yaml", "globex", SHARED, "/acme/raw/"),
    Spec("globex/h-slash-only.yaml", "globex", SHARED, "/"),
    Spec("globex/h-bucket-title.yaml", "globex", "Dativo-Shared-Lake", "acme/raw"),
    Spec("globex/h-bucket-upper.yaml", "globex", SHARED.upper(), ""),
    Spec("globex/h-prefix-upper.yaml", "globex", SHARED, "ACME/raw"),
    Spec("acme/h-into-acme-eu.yaml", "acme", SHARED, "acme-eu/x"),
    Spec("acme-eu/h-into-acme.yaml", "acme-eu", SHARED, "acme/x"),
    Spec("initech/h-created-landing.yaml", "initech", "acme-owned-lake", "landing"),  # allowed bucket, acme's prefix
    Spec("shared/h-fixed-prefix.yaml", "${TENANT_ID}", SHARED, "acme/raw", only_for=("acme",)),
]

STACK_FILES = {
    # initech may use the bucket acme creates; on it, initech's prefix must start with 'initech/'
    "initech": "config:\n  dativo-infra:allowedBuckets:\n    - acme-owned-lake\n",
    # acme-eu declares the shared bucket itself too (it is shared anyway: several tenants name it); globex does
    # not, so that what decides globex's jobs is the tree, not its own stack file
    "acme-eu": f"config:\n  dativo-infra:sharedBuckets:\n    - {SHARED}\n",
}


def write_tree(root: Path, specs: list[Spec]) -> Path:
    jobs = root / "jobs"
    shutil.copytree(JOBS / "assets", jobs / "assets")
    for spec in specs:
        path = jobs / spec.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(job_yaml(spec), encoding="utf-8")
    project = root / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: isolation\nruntime: python\nconfig:\n  aws:region:\n    value: us-east-1\n")
    for tenant in TENANTS:
        (project / f"Pulumi.{tenant}-{ENV}.yaml").write_text(STACK_FILES.get(tenant, "config: {}\n"))
    return root


def run_cli(root: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([CLI, *args], cwd=root, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def cli_plans(root: Path) -> tuple[int, dict, dict[str, dict]]:
    """``plan --all`` over the tree: exit code, the --json report, each stack's full plan."""
    code, out, err = run_cli(root, "plan", "--all", "--jobs-dir", "jobs", "--project-dir", "project", "--image", IMAGE,
                             "--parallel", "2", "--json", "--output-dir", "plans")
    assert "Traceback" not in err, err
    report = json.loads(out)
    plans = {p.stem: json.loads(p.read_text()) for p in sorted((root / "plans").glob("*.json"))}
    return code, report, plans


# -- what belongs to whom -----------------------------------------------------------------------------------------

# bucket → (owner of every key not carved out, {tenant: key root carved out for it}); None: nobody's
BUCKETS = {
    SHARED: (None, {t: f"{t}/" for t in TENANTS}),
    SHARED_RUN: (None, {t: f"{t}/" for t in TENANTS}),
    "acme-owned-lake": ("acme", {"initech": "initech/"}),
    "acme-private-lake": ("acme", {}),
    "globex-private-lake": ("globex", {}),
}


def owner(bucket: str, key: str) -> Optional[str]:
    default, carved = BUCKETS[bucket]
    return next((t for t, root in carved.items() if key.startswith(root)), default)


def may_list(tenant: str, bucket: str, prefix: str) -> bool:
    """Whether every key a listing of ``prefix`` can return is ``tenant``'s own."""
    default, carved = BUCKETS[bucket]
    if tenant in carved and prefix.startswith(carved[tenant]):
        return True
    clash = any(t != tenant and (r.startswith(prefix) or prefix.startswith(r)) for t, r in carved.items())
    return default == tenant and not clash


def uses(tenant: str) -> list[tuple[str, str]]:
    """(bucket, prefix) of every legitimate job of ``tenant``, as the product stores them (slashes stripped)."""
    found = []
    for spec in LEGIT:
        if spec.tenant in (tenant, "${TENANT_ID}"):
            found.append((spec.bucket, (spec.prefix or "").replace("${TENANT_ID}", tenant).strip("/")))
    return found


def object_keys(tenant: str) -> list[tuple[str, str]]:
    """Keys ``tenant``'s jobs may write, and keys at the boundary of its namespace, on every bucket it uses."""
    keys = set()
    for bucket, prefix in uses(tenant):
        base = f"{prefix}/" if prefix else ""
        keys |= {(bucket, base + k) for k in ("part-0.parquet", "nested/a/b.json", "")} - {(bucket, "")}
        keys |= {(bucket, prefix), (bucket, prefix + "x/y"), (bucket, prefix + "-eu/x"), (bucket, base + "../x")}
    for bucket in BUCKETS:
        keys |= {(bucket, k) for k in (tenant, f"{tenant}/", f"{tenant}/x/y", f"{tenant}/raw/z", f"{tenant}-eu/x", f"{tenant}x/y", f"{tenant}/../x",
                                        f"{tenant.upper()}/x", "other/x", "x", "landing/x", "raw/x")}
    return sorted(k for k in keys if k[1])


def list_prefixes(tenant: str) -> list[tuple[str, Optional[str]]]:
    """s3:prefix values that would list ``tenant``'s keys (None: a listing without a prefix)."""
    found = set()
    for bucket, prefix in uses(tenant):
        found |= {(bucket, prefix), (bucket, f"{prefix}/" if prefix else ""), (bucket, f"{prefix}/nested" if prefix else "nested")}
    for bucket in BUCKETS:
        found |= {(bucket, p) for p in (tenant, f"{tenant}/", f"{tenant}/x/", f"{tenant}-eu", f"{tenant}-eu/", f"{tenant}*", "", "a", "*")}
        found.add((bucket, None))
    return sorted(found, key=lambda bp: (bp[0], bp[1] or ""))


# -- the policies of the plans ------------------------------------------------------------------------------------

IAM_TYPES_READ = {"aws:iam/rolePolicy:RolePolicy", "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"}
ECS_EXECUTION = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"  # ECR, logs: no S3


@dataclass
class Principal:
    stack: str
    tenant: str
    role: str
    jobs: set = field(default_factory=set)
    policies: list = field(default_factory=list)


def principals(plans: dict[str, dict]) -> dict[tuple[str, str], Principal]:
    """Every role of every plan with its identity policies; fails on a policy-bearing resource this test does not read."""
    found: dict[tuple[str, str], Principal] = {}
    for stack, plan in plans.items():
        for r in plan["resources"]:
            typ, inputs = r["type"], r.get("inputs") or {}
            if (typ.startswith("aws:iam/") or "olicy" in typ) and typ not in IAM_TYPES_READ:
                pytest.fail(f"{stack}: {typ} {r['name']}: a policy-bearing resource this test does not evaluate")
            if typ == "aws:iam/role:Role":
                assert not inputs.get("inlinePolicies") and not inputs.get("managedPolicyArns"), (stack, r["name"])
            if typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
                assert inputs["policyArn"] == ECS_EXECUTION, (stack, r["name"], inputs["policyArn"])
            if typ == "aws:iam/rolePolicy:RolePolicy":
                p = found.setdefault((stack, inputs["role"]), Principal(stack, plan["tenant"], inputs["role"]))
                p.jobs.add(r["job"])
                p.policies.append(json.loads(inputs["policy"]))
    return found


@dataclass
class Findings:
    evaluated: int = 0
    grants: list = field(default_factory=list)


def cross_tenant_grants(found: dict[tuple[str, str], Principal], findings: Findings) -> None:
    for principal in found.values():
        a = principal.tenant
        for b in TENANTS:
            if b == a:
                continue
            for bucket, key in object_keys(b):
                if owner(bucket, key) == a:
                    continue  # e.g. "acme-eu/x" among acme's boundary keys is acme-eu's own
                for action in OBJECT_ACTIONS:
                    findings.evaluated += 1
                    decision = evaluate(principal.policies, action, f"arn:aws:s3:::{bucket}/{key}")
                    if decision.allowed:
                        findings.grants.append((principal.stack, sorted(principal.jobs), action, f"{bucket}/{key}", decision.statement))
            for bucket, prefix in list_prefixes(b):
                if may_list(a, bucket, prefix or ""):
                    continue
                findings.evaluated += 1
                decision = evaluate(principal.policies, "s3:ListBucket", f"arn:aws:s3:::{bucket}",
                                    {} if prefix is None else {"s3:prefix": prefix})
                if decision.allowed:
                    findings.grants.append((principal.stack, sorted(principal.jobs), "s3:ListBucket", f"{bucket} s3:prefix={prefix!r}", decision.statement))


def assert_own_access(found: dict[tuple[str, str], Principal], specs: list[Spec]) -> int:
    """Every legitimate job's role reaches its own objects and lists its own prefix (the evaluation is not vacuous)."""
    checked = 0
    by_job = {(p.stack, job): p for p in found.values() for job in p.jobs}
    for spec in specs:
        tenants = TENANTS if spec.tenant == "${TENANT_ID}" else (spec.tenant,)
        for tenant in tenants:
            principal = by_job.get((f"{tenant}-{ENV}", spec.job))
            assert principal is not None, f"{spec.file} ({tenant}): no role in the plan"
            prefix = (spec.prefix or "").replace("${TENANT_ID}", tenant).strip("/")
            key = f"{prefix}/part-0.parquet" if prefix else "part-0.parquet"
            for action in OBJECT_ACTIONS:
                assert evaluate(principal.policies, action, f"arn:aws:s3:::{spec.bucket}/{key}").allowed, (spec.file, tenant, action, key)
                checked += 1
            listing = {"s3:prefix": f"{prefix}/"} if prefix else {}
            assert evaluate(principal.policies, "s3:ListBucket", f"arn:aws:s3:::{spec.bucket}", listing).allowed, (spec.file, tenant)
            checked += 1
    return checked


def describe(grants: list) -> str:
    """One line per role that reaches another tenant: how many grants, one example, the statement that allows it."""
    by_role: dict = {}
    for stack, jobs, action, target, statement in grants:
        by_role.setdefault((stack, ",".join(jobs)), []).append((action, target, statement))
    lines = [f"{len(grants)} cross-tenant grant(s) by {len(by_role)} role(s):"]
    for (stack, jobs), found in sorted(by_role.items()):
        action, target, statement = found[0]
        lines.append(f"  {stack} job {jobs}: {len(found)}, e.g. {action} on {target} via {json.dumps(statement)}")
    return "\n".join(lines)


# -- the tests ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def legit_tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("legit"), LEGIT)


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("hostile"), LEGIT + HOSTILE)


def test_the_legitimate_tree_plans_with_no_cross_tenant_grant_and_every_job_reaches_its_own_objects(legit_tree):
    code, out, err = run_cli(legit_tree, "validate", "jobs", "--project-dir", "project", "--image", IMAGE, "--json")
    records = json.loads(out)["files"]
    assert code == 0 and all(r["ok"] for r in records), [r for r in records if not r["ok"]]
    code, report, plans = cli_plans(legit_tree)
    assert code == 0 and report["ok"], report
    assert sorted(plans) == sorted(f"{t}-{ENV}" for t in TENANTS)
    found = principals(plans)
    own = assert_own_access(found, LEGIT)
    findings = Findings()
    cross_tenant_grants(found, findings)
    assert not findings.grants, describe(findings.grants)
    # 4 tenants × (3 own jobs on average + the shared one): every pair, every action, every key, every listing
    assert len(found) >= 13 and own >= 4 * 13 and findings.evaluated > 4000, (len(found), own, findings.evaluated)


def test_validate_rejects_every_hostile_file_by_name_and_only_them(hostile_tree):
    code, out, err = run_cli(hostile_tree, "validate", "jobs", "--project-dir", "project", "--image", IMAGE, "--json")
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err
    records = {r["path"]: r for r in json.loads(out)["files"]}
    for spec in HOSTILE:
        record = records[f"jobs/{spec.file}"]
        assert not record["ok"] and any(e["file"] == f"jobs/{spec.file}" for e in record["errors"]), (spec.file, record)
    for spec in LEGIT:
        record = records[f"jobs/{spec.file}"]
        assert record["ok"], (spec.file, record["errors"])


def test_plan_all_with_hostile_files_in_the_tree_plans_none_of_them_and_grants_nothing_across_tenants(hostile_tree):
    code, report, plans = cli_plans(hostile_tree)
    hostile_jobs = {spec.job for spec in HOSTILE}
    planned = {(stack, r["job"]) for stack, plan in plans.items() for r in plan["resources"] if r.get("job") in hostile_jobs}
    leaked = sorted((stack, job) for stack, job in planned
                    if not any(s.job == job and stack.rsplit("-", 1)[0] in s.only_for for s in HOSTILE))
    findings = Findings()
    cross_tenant_grants(principals(plans), findings)
    assert not findings.grants, describe(findings.grants)
    assert not leaked, f"hostile jobs planned: {leaked}"
    assert code != 0 and not report["ok"], "plan --all must fail on a tree with hostile files"
    failed = {s["stack"] for s in report["stacks"] if not s["ok"]}
    assert {f"{t}-{ENV}" for t in ("globex", "acme", "acme-eu", "initech")} <= failed, report["stacks"]


def _plans_of_one_hostile_file(root: Path, spec: Spec) -> dict[str, dict]:
    """The plans of every stack the file can belong to, as ``plan --all`` (the fleet: only the stack's own files) and
    as ``plan --tenant`` (the whole tree) make them; a stack that rejects the jobs must name the file."""
    from dativo_infra.fleet import discover_stacks
    from dativo_infra.plan import plan_stack
    from dativo_infra.program import StackError
    from dativo_infra.stack import Flags, Project

    jobs = str(root / "jobs")
    project = Project(str(root / "project"), Flags(image=IMAGE, jobs_dir=jobs))
    tenants = TENANTS if spec.tenant == "${TENANT_ID}" else (spec.tenant,)
    plans = {}
    for ref in discover_stacks(jobs, project=project).stacks:
        if ref.tenant not in tenants or ref.tenant in spec.only_for:
            continue
        for how, files, buckets in (("fleet", ref.files, ref.buckets), ("tree", None, ())):
            try:
                plan = plan_stack(project.context(ref.tenant, ref.environment), files, buckets)  # as dativo_infra.fleet._plan calls it
            except StackError as exc:
                assert any(p.file.endswith(spec.file) for p in exc.problems), (spec.file, how, [p.render() for p in exc.problems])
                plans[f"{ref.name} ({how})"] = None  # refused, naming the hostile file
                continue
            plans[f"{ref.name} ({how})"] = plan.as_dict()
    return plans


def test_each_hostile_file_alone_in_the_tree_is_kept_out_of_every_plan_and_grants_nothing(tmp_path):
    """One hostile file at a time (a tree with several fails as a whole and could hide one that slips through)."""
    findings, leaked, tried = Findings(), [], 0
    for index, spec in enumerate(HOSTILE):
        root = write_tree(tmp_path / f"h{index}", LEGIT + [spec])
        outcomes = _plans_of_one_hostile_file(root, spec)
        tried += len(outcomes)
        plans = {stack: plan for stack, plan in outcomes.items() if plan is not None}
        leaked += [(spec.file, stack) for stack, plan in plans.items() if any(r.get("job") == spec.job for r in plan["resources"])]
        cross_tenant_grants(principals(plans), findings)
    assert not findings.grants, describe(findings.grants)
    assert not leaked, f"hostile jobs planned: {leaked}"
    assert tried >= 2 * len(HOSTILE)  # each hostile file's stack was planned both ways (and refused, or planned without it)


# -- the evaluator against the IAM documentation, and against moto where moto is right ----------------------------

BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
DOC_CASES = [
    # (policy statements, action, resource, context, expected) — from the IAM User Guide's examples and rules
    # Action: "The prefix and the action name are case insensitive"; wildcards in actions
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], "S3:getobject", f"{BUCKET}/a", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}], "iam:ListAccessKeys", "*", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}], "iam:ListUsers", "*", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "*"}], "s3:GetObject", f"{BUCKET}/a", {}, ALLOW),
    # Resource: ARN wildcards span '/' ("amzn-s3-demo-bucket/Development/*" covers Projects/project1.txt)
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/Development/*"}], "s3:GetObject",
     f"{BUCKET}/Development/Projects/project1.txt", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/Development/*"}], "s3:GetObject",
     f"{BUCKET}/Development", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/Development/*"}], "s3:GetObject",
     f"{BUCKET}/development/x", {}, IMPLICIT_DENY),  # case sensitive
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/acme/*"}], "s3:GetObject",
     f"{BUCKET}/acme-eu/x", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/acme*"}], "s3:GetObject",
     f"{BUCKET}/acme-eu/x", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/a?c"}], "s3:GetObject", f"{BUCKET}/abc", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/a?c"}], "s3:GetObject", f"{BUCKET}/ac", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a.c/*"}], "s3:GetObject", "arn:aws:s3:::abc/x", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/[ab]"}], "s3:GetObject", f"{BUCKET}/a", {}, IMPLICIT_DENY),
    # NotAction / NotResource
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "s3:GetObject", f"{BUCKET}/a", {}, ALLOW),
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "iam:CreateUser", "*", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"}], "s3:GetObject", f"{BUCKET}/secret/x", {}, IMPLICIT_DENY),
    # evaluation logic: an explicit deny overrides any allow; nothing matching is an implicit deny
    ([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"{BUCKET}/*"}], "s3:DeleteObject", f"{BUCKET}/a", {}, EXPLICIT_DENY),
    ([], "s3:GetObject", f"{BUCKET}/a", {}, IMPLICIT_DENY),
    # Condition: "ListBucket ... home/ folder": StringLike s3:prefix values OR-ed; a missing key does not match
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/David/*"]}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "home/"}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/David/*"]}}}], "s3:ListBucket", BUCKET,
     {"s3:prefix": "home/David/photos/"}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/David/*"]}}}], "s3:ListBucket", BUCKET,
     {"s3:prefix": "home/Mary/"}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": ["home/"]}}}], "s3:ListBucket", BUCKET, {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": ["acme/", "acme/*"]}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "acme"}, IMPLICIT_DENY),
    # StringEquals is exact and case sensitive; negated operators hold when the key is absent; ...IfExists
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringEquals": {"s3:prefix": "projects"}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "Projects"}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringEquals": {"s3:prefix": "projects/*"}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "projects/a"}, IMPLICIT_DENY),
    ([{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}},
      {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}], "s3:GetObject", f"{BUCKET}/a", {}, EXPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"s3:prefix": "x"}}}],
     "s3:GetObject", f"{BUCKET}/a", {}, ALLOW),
    # several keys in one operator are AND-ed
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringEquals": {"s3:prefix": "a", "s3:delimiter": "/"}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "a"}, IMPLICIT_DENY),
    # policy variables: "${aws:username}" is the caller's; here it matches anything (conservative); ${*} is a literal '*'
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/home/${{aws:username}}/*"}], "s3:GetObject",
     f"{BUCKET}/home/Mary/a", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/home/${{aws:username}}/*"}], "s3:GetObject",
     f"{BUCKET}/work/Mary/a", {}, IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
       "Condition": {"StringLike": {"s3:prefix": "${aws:PrincipalTag/dativo:tenant}/*"}}}], "s3:ListBucket", BUCKET, {"s3:prefix": "acme/x"}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/${{*}}"}], "s3:GetObject", f"{BUCKET}/*", {}, ALLOW),
    ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/${{*}}"}], "s3:GetObject", f"{BUCKET}/a", {}, IMPLICIT_DENY),
]


@pytest.mark.parametrize("statements, action, resource, context, expected", DOC_CASES)
def test_evaluator_against_the_iam_documentation(statements, action, resource, context, expected):
    assert evaluate([{"Version": "2012-10-17", "Statement": statements}], action, resource, context).result == expected


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
    {"Effect": "Allow", "Action": "s3:*"},
])
def test_evaluator_refuses_what_it_does_not_implement(statement):
    with pytest.raises(Unsupported):
        evaluate([{"Statement": [statement]}], "s3:GetObject", f"{BUCKET}/a", {"s3:max-keys": "5"})


def test_evaluator_agrees_with_moto_on_the_product_policies_where_moto_is_right(legit_tree):
    """moto's matcher is right on unconditioned statements, exact-case actions and ARNs without '.', '?' or other regex
    characters: on those, both must give the same answer for every role of the legitimate plans and every key."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    plans = {p.stem: json.loads(p.read_text()) for p in sorted((legit_tree / "plans").glob("*.json"))}
    if not plans:  # the plan test did not run first (-k): make them
        plans = cli_plans(legit_tree)[2]
    compared = agreed_allow = 0
    for principal in principals(plans).values():
        unconditioned = [{**doc, "Statement": [s for s in doc["Statement"] if "Condition" not in s]} for doc in principal.policies]
        moto = [IAMPolicy(json.dumps(doc)) for doc in unconditioned]
        for tenant in TENANTS:
            for bucket, key in object_keys(tenant):
                resource = f"arn:aws:s3:::{bucket}/{key}"
                if any(c in resource for c in ".?+()[]{}^$|\\"):
                    continue
                for action in (*OBJECT_ACTIONS, "s3:ListBucket"):
                    target = f"arn:aws:s3:::{bucket}" if action == "s3:ListBucket" else resource
                    results = [m.is_action_permitted(action, target) for m in moto]
                    moto_allows = PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results
                    ours = evaluate(unconditioned, action, target).allowed
                    assert ours == moto_allows, (principal.stack, sorted(principal.jobs), action, target)
                    compared += 1
                    agreed_allow += ours
    assert compared > 1000 and agreed_allow > 50, (compared, agreed_allow)


def test_glob_matching_details():
    assert glob_match("a*", "a/b/c") and glob_match("*", "") and not glob_match("a", "A")
    assert glob_match("A", "a", ignore_case=True) and not glob_match("a.b", "axb") and glob_match("a${x}b", "a/any/b")
    assert glob_match("${$}{x}", "${x}") and not glob_match("a${x}b", "a", variables=True)
