"""cost --compare-to REF: each job's, each tenant's and the total change against a git revision or another folder."""
from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from dativo_infra.cli import cli as group
from dativo_infra.cost import estimate_job, load_prices
from dativo_infra.cost.compare import before_tree, compare
from dativo_infra.cost.tfvars import read_tfvars
from dativo_infra.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
NODE_PRICES = str(ROOT / "tests" / "fixtures" / "cost" / "node-prices.yaml")
GOLDEN = ROOT / "tests" / "golden" / "tfvars"


def run(*args: str):
    """``dativo-infra cost ...`` in process (cost-core's command with --tfvars, --compare-to and cost prices: with_extras)."""
    result = CliRunner().invoke(group, ["cost", *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def copy_project(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "jobs", target / "jobs")
    for stack in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack, target / stack.name)
    return target


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository whose sub-folder ``project`` is a copy of the example project, committed."""
    copy_project(tmp_path / "project")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "examples")
    return tmp_path


def change_the_examples(project: Path) -> None:
    """One job changed (twice the runtime), one removed, one added (a copy of a job under a new name)."""
    aws = project / "jobs" / "acme" / "stripe_customers_aws.yaml"
    aws.write_text(aws.read_text().replace("max_runtime_seconds: 3600", "max_runtime_seconds: 7200"))
    (project / "jobs" / "globex" / "salesforce_accounts_azure.yaml").unlink()
    gcp = (project / "jobs" / "acme" / "stripe_customers_gcp.yaml").read_text()
    (project / "jobs" / "acme" / "stripe_customers_gcp_copy.yaml").write_text(gcp.replace("name: stripe-customers-gcp", "name: stripe-customers-gcp-copy"))


def by_job(data: dict) -> dict:
    return {(j["tenant"], j["environment"], j["job"]): j for j in data["jobs"]}


def test_against_a_git_revision_every_change_is_shown_and_sums_up(repo):
    project = repo / "project"
    _, before_out, _ = run("--all", "--project-dir", project, "--prices", NODE_PRICES, "--json")
    change_the_examples(project)
    _, after_out, _ = run("--all", "--project-dir", project, "--prices", NODE_PRICES, "--json")
    before, after = by_job(json.loads(before_out)), by_job(json.loads(after_out))
    code, out, err = run("--all", "--project-dir", project, "--prices", NODE_PRICES, "--compare-to", "HEAD", "--json")
    assert code == 0, err
    diff = json.loads(out)
    jobs = by_job(diff)
    changed = jobs[("acme", "prod", "stripe-customers-aws")]
    assert changed["status"] == "changed" and changed["after"] > changed["before"]
    assert (changed["before"], changed["after"]) == (before[("acme", "prod", "stripe-customers-aws")]["monthly_cost"],
                                                     after[("acme", "prod", "stripe-customers-aws")]["monthly_cost"])
    removed = jobs[("globex", "prod", "salesforce-accounts-azure")]
    assert removed["status"] == "removed" and removed["after"] is None and removed["change"] == -removed["before"] != 0
    assert removed["file_before"] == "HEAD:jobs/globex/salesforce_accounts_azure.yaml" and removed["file_after"] is None
    added = jobs[("acme", "prod", "stripe-customers-gcp-copy")]
    assert added["status"] == "added" and added["before"] is None and added["after"] == after[("acme", "prod", "stripe-customers-gcp-copy")]["monthly_cost"]
    assert {k for k, j in jobs.items() if j["status"] == "unchanged"} == set(before) - {k for k, j in jobs.items() if j["status"] != "unchanged"}
    # tenants and total: sums of the jobs, before and after equal to the two plain estimates
    money = lambda v: Decimal(str(v)) if v is not None else Decimal(0)  # noqa: E731
    for tenant in diff["tenants"]:
        mine = [j for j in diff["jobs"] if j["tenant"] == tenant["tenant"]]
        assert money(tenant["before"]) == sum(money(j["before"]) for j in mine)
        assert money(tenant["after"]) == sum(money(j["after"]) for j in mine)
    assert money(diff["total"]["before"]) == money(json.loads(before_out)["total"])
    assert money(diff["total"]["after"]) == money(json.loads(after_out)["total"])
    assert money(diff["total"]["change"]) == money(diff["total"]["after"]) - money(diff["total"]["before"])
    assert {t["tenant"]: (t["jobs_added"], t["jobs_removed"], t["jobs_changed"]) for t in diff["tenants"]} == {"acme": (1, 0, 1), "globex": (0, 1, 0)}
    assert git(repo, "status", "--porcelain", "--untracked-files=no").strip()  # the work tree keeps its changes: archive only reads


def test_the_table_names_what_changed(repo):
    project = repo / "project"
    change_the_examples(project)
    code, out, _ = run("--all", "--project-dir", project, "--prices", NODE_PRICES, "--compare-to", "HEAD")
    assert code == 0
    assert "cost change against HEAD" in out and "stripe-customers-gcp-copy" in out and "added" in out and "removed" in out
    assert "by tenant:" in out and out.rstrip().splitlines()[-1].startswith("total: ")


def test_against_another_folder(repo, tmp_path):
    old = copy_project(tmp_path / "old")
    change_the_examples(repo / "project")
    code, out, _ = run("--all", "--project-dir", repo / "project", "--prices", NODE_PRICES, "--compare-to", old, "--json")
    assert code == 0
    statuses = {j["job"]: j["status"] for j in json.loads(out)["jobs"]}
    assert statuses["stripe-customers-aws"] == "changed" and statuses["salesforce-accounts-azure"] == "removed"


def test_no_change_is_all_unchanged(repo):
    code, out, _ = run("--all", "--project-dir", repo / "project", "--prices", NODE_PRICES, "--compare-to", "HEAD", "--json")
    data = json.loads(out)
    assert code == 0 and {j["status"] for j in data["jobs"]} == {"unchanged"} and data["total"]["change"] == 0


@pytest.mark.parametrize("ref, message", [
    ("--output=/tmp/x", "a revision never starts with '-'"),
    ("no-such-branch", "is not a commit of this repository"),
    ("HEAD~5", "is not a commit of this repository"),
])
def test_bad_refs_are_exit_2_before_anything_runs(repo, ref, message):
    code, out, _ = run("--all", "--project-dir", repo / "project", "--compare-to", ref, "--json")
    assert code == 2
    assert message in json.loads(out)["errors"][0]["message"]


def test_a_folder_outside_any_repository_is_said_so(tmp_path):
    project = copy_project(tmp_path / "lonely")
    code, out, _ = run("--all", "--project-dir", project, "--prices", NODE_PRICES, "--compare-to", "main", "--json")
    assert code == 2 and "not in a git repository" in json.loads(out)["errors"][0]["message"]


@pytest.mark.parametrize("args", [("--compare-to", "HEAD", "--csv"), ("--compare-to", "HEAD", "--by", "tenant"),
                                  ("--compare-to", "HEAD", "--tfvars", "x"), ("--compare-to", "HEAD")])
def test_usage_errors(repo, args):
    code, _, _ = run(*(("--all",) if args != ("--compare-to", "HEAD") else ()), "--project-dir", repo / "project", *args)
    assert code == 2


def test_before_tree_reads_the_revision_and_leaves_nothing_behind(repo):
    project = repo / "project"
    (project / "jobs" / "acme" / "stripe_customers_aws.yaml").unlink()
    with before_tree(str(project), "HEAD") as old:
        assert (Path(old) / "jobs" / "acme" / "stripe_customers_aws.yaml").is_file()
        assert not (Path(old).parent / "README.md").exists()  # only the project folder is archived
        kept = Path(old)
    assert not kept.exists()
    with before_tree(str(project), str(repo)) as same:
        assert same == str(repo)
    with pytest.raises(ConfigError, match="neither a folder nor a git revision"):
        with before_tree(str(project), "-x"):
            pass


def test_compare_keys_jobs_by_tenant_environment_and_name():
    prices = load_prices(NODE_PRICES)
    variables = read_tfvars(str(GOLDEN / "acme" / "prod" / "stripe-customers-aws.tfvars.json"))
    old = estimate_job(variables, prices)
    new = estimate_job({**variables, "max_runtime_seconds": 7200}, prices)
    other = estimate_job({**variables, "tenant_id": "globex"}, prices)
    diff = compare([old, other], [new], "base")
    assert [(j.tenant, j.status) for j in diff.jobs] == [("acme", "changed"), ("globex", "removed")]
    assert diff.jobs[0].change == new.monthly_cost - old.monthly_cost > 0
    assert diff.change == new.monthly_cost - old.monthly_cost - other.monthly_cost
    assert [t.as_dict()["tenant"] for t in diff.tenants] == ["acme", "globex"]


# examples/automation/deploy_all.py puts the diff in the pull-request summary


def deploy_all():
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_all", ROOT / "examples" / "automation" / "deploy_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deploy_all_takes_the_base_from_the_ci():
    module = deploy_all()
    assert module.base_from_ci({"GITHUB_BASE_REF": "main"}) == "origin/main"
    assert module.base_from_ci({"CI_MERGE_REQUEST_DIFF_BASE_SHA": "abc123"}) == "abc123"
    assert module.base_from_ci({}) is None


def test_deploy_all_summary_shows_the_cost_change_beside_the_preview(repo):
    module = deploy_all()
    project = repo / "project"
    change_the_examples(project)
    asked = []

    def cli_in_process(args, **kwargs):  # the script runs `dativo-infra cost ...`; here the same command runs in process
        asked.append(args)
        code, out, err = run(*args[2:])
        return subprocess.CompletedProcess(args, code, out, err)

    diff = module.cost_diff("HEAD", str(project), str(project / "jobs"), NODE_PRICES, run=cli_in_process)
    assert asked[0][1:4] == ["cost", "--all", str(project / "jobs")] and "--compare-to=HEAD" in asked[0] and "--json" in asked[0]
    text = module.cost_markdown(diff, "HEAD")
    assert text.startswith("### Estimated cost change against HEAD\n")
    assert "| tenant | before | after | change |" in text and "| **total** |" in text
    assert f"| globex | {diff['tenants'][1]['before']:,.2f} |" in text
    assert "| stripe-customers-gcp-copy | acme / prod | – |" in text and "| added |" in text and "| removed |" in text
    assert text.rstrip().endswith(f"{sum(j['status'] == 'unchanged' for j in diff['jobs'])} of {len(diff['jobs'])} jobs unchanged.")


def test_deploy_all_summary_says_when_the_diff_is_not_available():
    module = deploy_all()
    text = module.cost_markdown({"ok": False, "errors": [{"file": "--compare-to", "message": "'x' is not a commit"}]}, "origin/main")
    assert "not available: --compare-to: 'x' is not a commit" in text

    def broken(args, **kwargs):
        return subprocess.CompletedProcess(args, 70, "", "dativo-infra: internal error: boom\n")

    assert module.cost_diff("HEAD", ".", "jobs", None, run=broken)["errors"][0]["message"] == "dativo-infra: internal error: boom"


@pytest.mark.parametrize("with_jobs_folder", [True, False])
def test_against_a_base_without_jobs_every_job_is_added(repo, tmp_path, with_jobs_folder):
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", old / "Pulumi.yaml")
    if with_jobs_folder:
        (old / "jobs").mkdir()
    code, out, err = run("--all", "--project-dir", repo / "project", "--prices", NODE_PRICES, "--compare-to", old, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {j["status"] for j in data["jobs"]} == {"added"} and data["total"]["before"] == 0
    assert data["total"]["change"] == data["total"]["after"] > 0
