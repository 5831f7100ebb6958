"""Two sensors: one keeps the stack partitions in step with the jobs folder, one applies job-file changes.

``dativo_stack_partitions`` (running by default) adds a partition for every
stack the discovery of ``plan --all`` finds, and removes those of stacks gone
from a folder that read without problems (a half-synced or broken tree never
removes a stack).

``dativo_auto_apply`` (stopped by default: start it to deploy on every change)
requests a run of the fleet mode (``up``, or ``preview`` for review, or
``plan``) for exactly the stacks whose files changed (:mod:`.watch`). Its first
look records a baseline and runs nothing. A stack with a run still queued or in
progress is left for a later tick (its change stays pending in the cursor), so
two updates of one stack never overlap; run keys ``<stack>:<digest>:<seq>``
keep a retried tick from launching a change twice.
"""

from typing import Union

import dagster as dg

from .assets import FLEET_JOB_NAME, OPERATION_JOB_NAMES, PARTITIONS_NAME, DativoFleet
from .stacks import FleetStacks, find_stacks, run_tags
from .watch import Cursor, git_revision, stack_digests

__all__ = ["auto_apply_sensor", "stack_partitions_sensor"]

_OUR_JOBS = {FLEET_JOB_NAME, *OPERATION_JOB_NAMES.values()}
_S = dg.DagsterRunStatus
NOT_FINISHED = (_S.NOT_STARTED, _S.QUEUED, _S.STARTING, _S.STARTED, _S.CANCELING, _S.SUSPENDED)  # a run that may still touch the stack


def _log_problems(context: dg.SensorEvaluationContext, found: FleetStacks) -> None:
    for problem in found.problems:
        context.log.warning(f"no stack: {problem.render()}")


def _add_missing(context: dg.SensorEvaluationContext, keys: list[str]) -> list[dg.AddDynamicPartitionsRequest]:
    existing = set(context.instance.get_dynamic_partitions(PARTITIONS_NAME))
    missing = [k for k in keys if k not in existing]
    return [dg.AddDynamicPartitionsRequest(PARTITIONS_NAME, missing)] if missing else []


@dg.sensor(name="dativo_stack_partitions", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Keeps one partition per tenant stack of the jobs folder (the discovery of `plan --all`).")
def stack_partitions_sensor(context: dg.SensorEvaluationContext, dativo: DativoFleet) -> Union[dg.SensorResult, dg.SkipReason]:
    found = find_stacks(dativo.settings())
    _log_problems(context, found)
    requests: list[Union[dg.AddDynamicPartitionsRequest, dg.DeleteDynamicPartitionsRequest]] = list(_add_missing(context, found.keys))
    if not found.problems:
        gone = sorted(set(context.instance.get_dynamic_partitions(PARTITIONS_NAME)) - set(found.stacks))
        if gone:
            requests.append(dg.DeleteDynamicPartitionsRequest(PARTITIONS_NAME, gone))
    if not requests:
        return dg.SkipReason(f"{len(found.stacks)} stacks, partitions up to date")
    return dg.SensorResult(dynamic_partitions_requests=requests)


def _busy(context: dg.SensorEvaluationContext, keys: list[str]) -> set[str]:
    """Stacks with a run of ours not finished (queued, starting, running, canceling): their change waits."""
    if not keys:
        return set()
    runs = context.instance.get_runs(filters=dg.RunsFilter(statuses=list(NOT_FINISHED), tags={"dagster/partition": keys}))
    return {run.tags.get("dagster/partition", "") for run in runs if run.job_name in _OUR_JOBS}


@dg.sensor(name="dativo_auto_apply", job_name=FLEET_JOB_NAME, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Runs the fleet mode (DATIVO_FLEET_MODE: up, preview for review, or plan) on exactly the stacks whose job files changed.")
def auto_apply_sensor(context: dg.SensorEvaluationContext, dativo: DativoFleet) -> Union[dg.SensorResult, dg.SkipReason]:
    settings = dativo.settings()
    found = find_stacks(settings)
    _log_problems(context, found)
    project = settings.project()
    digests = stack_digests(found, project, settings.assets_dir)
    cursor = Cursor.loads(context.cursor)
    if cursor is None and not digests:  # a folder not there yet (a sync to come): a baseline of nothing would run everything later
        return dg.SkipReason(f"no stack found in {settings.jobs_folder()}: no baseline recorded yet")
    if cursor is None:
        baseline = Cursor(0, digests)
        return dg.SensorResult(skip_reason=f"baseline of {len(digests)} stacks recorded; later changes run {settings.mode}",
                               cursor=baseline.dumps(), dynamic_partitions_requests=_add_missing(context, found.keys))
    changed = cursor.changed(digests)
    busy = _busy(context, changed)
    launch = [key for key in changed if key not in busy]
    for key in sorted(busy):
        context.log.info(f"{key} changed but a run of it has not finished: it runs once that one is done")
    if not launch:
        return dg.SkipReason(f"no change to run ({len(busy)} waiting for a run to finish)" if busy else "no job file changed")
    seq = cursor.seq + 1
    revision = git_revision(settings.jobs_folder())
    extra = {"dativo/git-revision": revision} if revision else {}
    requests = [dg.RunRequest(run_key=f"{key}:{digests[key]}:{seq}", partition_key=key,
                              tags={**run_tags(found.stacks[key], settings.mode, project), "dativo/files": digests[key], **extra})
                for key in launch]
    after = Cursor(seq, {**cursor.stacks, **{key: digests[key] for key in launch}})
    return dg.SensorResult(run_requests=requests, cursor=after.dumps(), dynamic_partitions_requests=_add_missing(context, launch))

