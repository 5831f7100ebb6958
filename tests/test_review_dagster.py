"""Review of dativo_infra.dagster as an acceptance check would drive it: a jobs tree with several tenants and a
broken one, the partition keys, the definitions loaded by ``dagster`` itself, the auto-apply sensor over scripted
edits (a job added, a shared ``${TENANT_ID}`` file edited, a stack file deleted, a job moved), and a bad mode."""
from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from dativo_infra.dagster import find_stacks
from dativo_infra.dagster.assets import DativoFleet, stack_asset

from .conftest import JOBS, ROOT
from .test_dagster import EXAMPLE_STACKS, copy_project, instance_with, settings_for
from .test_dagster_sensor import Fleet

GOOD_JOB = (JOBS / "globex" / "postgres_orders_aws.yaml").read_text(encoding="utf-8")


def initech_job(bucket: str = "initech-orders-lake", environment: str = "staging") -> str:
    """globex's staging job, for tenant initech (its own bucket: a bucket is one tenant's)."""
    text = GOOD_JOB.replace("globex-staging-orders-lake", bucket).replace("tenant_id: globex", "tenant_id: initech")
    return text.replace("environment: staging", f"environment: {environment}")


def broken_tree(root):
    """The example project, plus tenant initech (one valid job, one that is not YAML), a tenant name that cannot be a
    partition key, and a file far over the size limit."""
    project = copy_project(root)
    jobs = project / "jobs"
    (jobs / "initech").mkdir()
    (jobs / "initech" / "orders.yaml").write_text(initech_job(), encoding="utf-8")
    (jobs / "initech" / "broken.yaml").write_text("tenant_id: initech\nenvironment: staging\nsource: [unclosed\n", encoding="utf-8")
    (jobs / "odd").mkdir()
    (jobs / "odd" / "job.yaml").write_text(initech_job("odd-lake").replace("tenant_id: initech", "tenant_id: Odd.Tenant"), encoding="utf-8")
    (jobs / "huge").mkdir()
    (jobs / "huge" / "job.yaml").write_text("tenant_id: huge\nenvironment: prod\n#" + "x" * (3 << 20) + "\n", encoding="utf-8")
    return project


def test_a_broken_tenant_fails_alone_and_the_definitions_load(tmp_path):
    project = broken_tree(tmp_path)
    found = find_stacks(settings_for(project))
    # <tenant>-<environment>, nothing of the bad names; initech also runs the shared prod jobs
    assert found.keys == sorted([*EXAMPLE_STACKS, "initech-prod", "initech-staging"])
    problems = "\n".join(p.render() for p in found.problems)
    assert "Odd.Tenant" in problems and "huge/job.yaml" in problems and "broken.yaml" in problems
    env = {**os.environ, "DATIVO_JOBS_DIR": str(project / "jobs"), "DATIVO_PROJECT_DIR": str(project),
           "DATIVO_ASSETS_DIR": str(project / "jobs" / "assets"), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    listing = subprocess.run([sys.executable, "-c", "from dativo_infra.dagster import stack_partitions; print(stack_partitions())"],
                             env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert listing.stdout.strip() == str(found.keys), listing.stderr
    validate = subprocess.run([os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-m", "dativo_infra.dagster"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert validate.returncode == 0 and "Validation successful" in validate.stdout + validate.stderr, validate.stdout + validate.stderr
    resources = {"dativo": DativoFleet.from_settings(settings_for(project))}
    instance = instance_with(found.keys)
    outcome = {key: dg.materialize([stack_asset], instance=instance, resources=resources, partition_key=key, raise_on_error=False).success
               for key in found.keys}
    # the file that is not YAML names its tenant, not (readably) its environment: both of initech's stacks report it, no other
    # stack does, and the huge file names tenant huge in its first line: no stack of another tenant reads it
    assert outcome == {**dict.fromkeys(EXAMPLE_STACKS, True), "initech-prod": False, "initech-staging": False}


def test_a_bad_fleet_mode_stops_the_code_location_with_the_variable_named(tmp_path):
    env = {**os.environ, "DATIVO_FLEET_MODE": "bogus", "DAGSTER_HOME": str(tmp_path)}
    validate = subprocess.run([os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-m", "dativo_infra.dagster"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = validate.stdout + validate.stderr
    assert validate.returncode != 0 and "DATIVO_FLEET_MODE: 'bogus' is not a fleet mode; use one of: plan, preview, up" in output


def test_scripted_edits_run_exactly_the_stacks_they_change(tmp_path):
    fleet = Fleet(copy_project(tmp_path))
    assert fleet.tick()[0] == []  # the baseline
    jobs = fleet.root / "jobs"

    (jobs / "initech").mkdir()
    (jobs / "initech" / "orders.yaml").write_text(initech_job(), encoding="utf-8")  # a new tenant: its staging stack, and prod (shared)
    assert fleet.launched() == ["initech-prod", "initech-staging"]
    (jobs / "initech" / "orders_two.yaml").write_text(initech_job("initech-two-lake"), encoding="utf-8")  # a second job of that stack
    assert fleet.launched() == ["initech-staging"]
    fleet.edit("jobs/shared/stripe_customers_shared.yaml")  # a shared ${TENANT_ID} prod file: every prod stack takes it
    assert fleet.launched() == ["acme-prod", "globex-prod", "initech-prod"]
    (fleet.root / "Pulumi.globex-prod.yaml").unlink()  # a stack file deleted: that stack's settings changed, no other's
    assert fleet.launched() == ["globex-prod"]
    (jobs / "initech" / "orders_two.yaml").write_text(initech_job("initech-two-lake", "prod"), encoding="utf-8")  # moved to prod
    assert fleet.launched() == ["initech-prod", "initech-staging"]
    (jobs / "initech" / "orders_two.yaml").unlink()  # a job deleted: its stack runs (up removes what it made)
    assert fleet.launched() == ["initech-prod"]
    (jobs / "huge").mkdir()  # a file too big to read, of a tenant with no other: no stack's business, not every stack's
    (jobs / "huge" / "job.yaml").write_text("tenant_id: huge\nenvironment: prod\n#" + "x" * (2 << 20) + "\n", encoding="utf-8")
    assert fleet.launched() == []
    (jobs / "initech" / "huge.yaml").write_text("tenant_id: initech\n#" + "x" * (2 << 20) + "\n", encoding="utf-8")  # initech's own
    assert fleet.launched() == ["initech-prod", "initech-staging"]
    assert fleet.launched() == []
