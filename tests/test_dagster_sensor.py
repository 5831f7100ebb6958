"""The Dagster sensors over a sequence of job-file edits: exactly the stacks whose files changed are run, once each."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import dagster as dg
import pytest

from dativo_infra.dagster import build_definitions, find_stacks
from dativo_infra.dagster.assets import PARTITIONS_NAME, DativoFleet
from dativo_infra.dagster.sensors import auto_apply_sensor, stack_partitions_sensor

from .test_dagster import EXAMPLE_STACKS, copy_project, settings_for


class Fleet:
    """A copy of the example project, an instance, and the auto-apply sensor's cursor carried from tick to tick."""

    def __init__(self, root: Path, mode: str = "up"):
        self.root = root
        self.settings = settings_for(root, mode)
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: Optional[str] = None
        self.sensor = auto_apply_sensor

    def edit(self, name: str, extra: str = "\n# edited\n") -> None:
        path = self.root / name
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")

    def tick(self):
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources={"dativo": DativoFleet.from_settings(self.settings)})
        result = self.sensor(context)
        if isinstance(result, dg.SkipReason):
            return [], result.skip_message
        for request in result.dynamic_partitions_requests or ():  # what the daemon does with them
            if isinstance(request, dg.DeleteDynamicPartitionsRequest):
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
            else:
                self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor or self.cursor
        return list(result.run_requests or ()), result.skip_reason.skip_message if result.skip_reason else result

    def launched(self) -> list[str]:
        return [r.partition_key for r in self.tick()[0]]


@pytest.fixture
def fleet(tmp_path) -> Fleet:
    root = copy_project(tmp_path)
    # globex-prod takes only one of the two shared jobs: a change to the other is none of its business
    stack_file = root / "Pulumi.globex-prod.yaml"
    stack_file.write_text(stack_file.read_text() + '  dativo-infra:sharedJobs: ["postgres-orders-shared-kubernetes"]\n')
    fleet = Fleet(root)
    requests, first = fleet.tick()
    assert requests == [] and "baseline of 3 stacks recorded" in first  # the first look runs nothing
    assert fleet.instance.get_dynamic_partitions(PARTITIONS_NAME) == EXAMPLE_STACKS
    return fleet


def test_exactly_the_changed_stacks_run(fleet):
    requests, skip = fleet.tick()
    assert requests == [] and skip == "no job file changed"

    fleet.edit("jobs/acme/stripe_customers_aws.yaml")
    [request] = fleet.tick()[0]
    digest = json.loads(fleet.cursor)["stacks"]["acme-prod"]
    assert request.partition_key == "acme-prod" and request.run_key == f"acme-prod:{digest}:1"
    assert "dativo/git-revision" not in request.tags  # not a repository (tmp_path)
    assert request.tags == {"dativo/stack": "acme-prod", "dativo/tenant": "acme", "dativo/environment": "prod", "dativo/operation": "up",
                            "dativo/gcp-project": "acme-project", "dativo/files": digest}
    assert fleet.launched() == []  # launched once, not on every tick

    path = fleet.root / "jobs/globex/postgres_orders_aws.yaml"
    path.write_bytes(path.read_bytes())  # rewritten as it was (a checkout, a sync): no change
    assert fleet.launched() == []

    fleet.edit("jobs/shared/stripe_customers_shared.yaml")  # shared, taken by acme-prod only (globex-prod lists the other)
    assert fleet.launched() == ["acme-prod"]
    fleet.edit("jobs/shared/postgres_orders_shared_kubernetes.yaml")  # shared, prod: every prod stack takes it
    assert fleet.launched() == ["acme-prod", "globex-prod"]
    fleet.edit("jobs/assets/postgres/v1.0/orders.yaml")  # the asset of that shared job and of globex-staging's job
    assert fleet.launched() == EXAMPLE_STACKS
    fleet.edit("Pulumi.globex-staging.yaml")
    assert fleet.launched() == ["globex-staging"]
    fleet.edit("jobs/acme/hubspot_contacts_kubernetes.yaml")
    fleet.edit("jobs/globex/hubspot_contacts_aks.yaml")
    requests = fleet.tick()[0]
    assert [r.partition_key for r in requests] == ["acme-prod", "globex-prod"]
    assert {r.run_key.rsplit(":", 1)[1] for r in requests} == {"6"}  # the sixth tick that ran something


def test_a_jobs_folder_in_git_labels_the_runs_with_its_commit(fleet):
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(fleet.root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "jobs")
    assert fleet.launched() == []  # a checkout that leaves the files as they were is no change
    fleet.edit("jobs/globex/postgres_orders_aws.yaml")
    git("commit", "-q", "-am", "edit")
    [request] = fleet.tick()[0]
    assert request.partition_key == "globex-staging" and request.tags["dativo/git-revision"] == git("rev-parse", "HEAD")


def test_the_cursor_survives_a_restart(fleet):
    fleet.edit("jobs/acme/stripe_customers_gcp.yaml")
    assert fleet.launched() == ["acme-prod"]
    saved = fleet.cursor
    # a new process: definitions loaded again, the cursor read back from the instance's storage
    restarted = Fleet(fleet.root)
    restarted.instance, restarted.cursor = fleet.instance, saved
    restarted.sensor = build_definitions(restarted.settings).resolve_sensor_def("dativo_auto_apply")
    assert restarted.launched() == []
    fleet.edit("jobs/globex/salesforce_accounts_azure.yaml")
    [request] = restarted.tick()[0]
    assert request.partition_key == "globex-prod" and request.run_key.endswith(":2")
    # a cursor this version cannot read is a new baseline, never a fleet-wide run
    restarted.cursor = '{"version": 99}'
    requests, skip = restarted.tick()
    assert requests == [] and "baseline" in skip


def test_no_baseline_before_the_jobs_folder_is_there(tmp_path):
    root = copy_project(tmp_path)
    (root / "jobs").rename(root / "later")
    fleet = Fleet(root)
    requests, skip = fleet.tick()
    assert requests == [] and "no stack found" in skip and fleet.cursor is None
    (root / "later").rename(root / "jobs")  # the sync arrives: its files are the baseline, not a fleet-wide change
    requests, skip = fleet.tick()
    assert requests == [] and "baseline of 3 stacks recorded" in skip


def test_a_stack_with_an_unfinished_run_waits(fleet):
    from dagster._core.test_utils import create_run_for_test

    running = create_run_for_test(fleet.instance, job_name="dativo_fleet", status=dg.DagsterRunStatus.STARTED,
                                  tags={"dagster/partition": "acme-prod"})
    create_run_for_test(fleet.instance, job_name="someone_elses_job", status=dg.DagsterRunStatus.STARTED, tags={"dagster/partition": "globex-staging"})
    fleet.edit("jobs/acme/stripe_customers_aws.yaml")
    fleet.edit("jobs/globex/postgres_orders_aws.yaml")
    assert fleet.launched() == ["globex-staging"]  # acme-prod's update is still running; another job's run is not ours
    assert fleet.launched() == []  # still running: still waiting
    fleet.instance.report_run_failed(running)
    assert fleet.launched() == ["acme-prod"]


def test_new_stacks_run_and_broken_files_stop_nothing(fleet):
    job = (fleet.root / "jobs/globex/postgres_orders_aws.yaml").read_text().replace("globex-staging-orders-lake", "initech-orders-lake")
    (fleet.root / "jobs/initech").mkdir()
    (fleet.root / "jobs/initech/orders.yaml").write_text(job.replace("tenant_id: globex", "tenant_id: initech"))
    (fleet.root / "jobs/initech/bad_name.yaml").write_text(job.replace("tenant_id: globex", "tenant_id: Initech_Corp"))
    # a file no YAML parser reads, whose tenant line names initech: only initech's stack reads it
    (fleet.root / "jobs/initech/unreadable.yaml").write_text("tenant_id: initech\nenvironment: [unclosed\n")
    fleet.edit("jobs/globex/hubspot_contacts_aks.yaml")
    # a new tenant: its staging stack, and its prod stack of the shared prod jobs (as plan --all finds them)
    assert fleet.launched() == ["globex-prod", "initech-prod", "initech-staging"]
    assert fleet.instance.get_dynamic_partitions(PARTITIONS_NAME) == [*EXAMPLE_STACKS, "initech-prod", "initech-staging"]
    # Initech_Corp cannot be a partition key: both its stacks (staging, and prod of the shared jobs) name its file
    bad = [p for p in find_stacks(fleet.settings).problems if "Initech_Corp" in p.message]
    assert len(bad) == 2 and all(p.file.endswith("initech/bad_name.yaml") for p in bad)
    # one that names no tenant may be anyone's: every stack reads it (and reports it), so every stack changed
    (fleet.root / "jobs/initech/unreadable.yaml").write_text("tenant_id: [unclosed\n")
    assert fleet.launched() == [*EXAMPLE_STACKS, "initech-prod", "initech-staging"]


def test_the_partitions_follow_the_jobs_folder(tmp_path):
    fleet = Fleet(copy_project(tmp_path))
    fleet.sensor = stack_partitions_sensor
    fleet.tick()
    assert fleet.instance.get_dynamic_partitions(PARTITIONS_NAME) == EXAMPLE_STACKS
    assert fleet.tick()[1] == "3 stacks, partitions up to date"
    staging_job = fleet.root / "jobs/globex/postgres_orders_aws.yaml"
    kept = staging_job.read_text()
    staging_job.write_text("tenant_id: [unclosed\n")  # its stack can no longer be told: a broken tree removes nothing
    assert fleet.tick()[0] == [] and fleet.instance.get_dynamic_partitions(PARTITIONS_NAME) == EXAMPLE_STACKS
    staging_job.unlink()  # gone from a tree that reads cleanly: its partition goes
    _, result = fleet.tick()
    [delete] = result.dynamic_partitions_requests
    assert isinstance(delete, dg.DeleteDynamicPartitionsRequest) and list(delete.partition_keys) == ["globex-staging"]
    assert fleet.instance.get_dynamic_partitions(PARTITIONS_NAME) == ["acme-prod", "globex-prod"]
    staging_job.write_text(kept)
    _, result = fleet.tick()
    [add] = result.dynamic_partitions_requests
    assert isinstance(add, dg.AddDynamicPartitionsRequest) and list(add.partition_keys) == ["globex-staging"]
