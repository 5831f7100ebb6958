"""The stack asset, one partition per tenant stack, and a partitioned job per operation (plan, preview, up, refresh).

Retries: a stack whose lock another update holds fails with ``allow_retries``
and the op's :data:`LOCK_RETRY` policy runs it again later; every other failure
(job files, stack config, program, CLI, passphrase) is a ``Failure`` that
bypasses the policy, and the jobs' ``dagster/retry_on_asset_or_op_failure: false``
keeps run retries (``run_retries`` in dagster.yaml) for runs whose worker died.
"""

import sys
from typing import TYPE_CHECKING, Optional, Union

import dagster as dg

from ..errors import ConfigError
from ..fleet import StackRef
from .runner import StackRun, StackRunFailed, find_stack, run_stack
from .settings import MODES, OPERATIONS, FleetSettings
from .stacks import partition_run_tags, run_tags

if TYPE_CHECKING:  # the type define_asset_job returns; Dagster has no public name for it
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

__all__ = ["FLEET_JOB_NAME", "LOCK_RETRY", "OPERATION_JOB_NAMES", "PARTITIONS", "PARTITIONS_NAME", "POOL", "STACK_ASSET_KEY", "DativoFleet",
           "fleet_job", "operation_job", "stack_asset"]

PARTITIONS_NAME = "dativo_stacks"
PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)
STACK_ASSET_KEY = dg.AssetKey(["dativo", "stack"])
POOL = "dativo_pulumi"  # every step that runs Pulumi: `dagster instance concurrency set dativo_pulumi N` caps them
LOCK_RETRY = dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
JOB_TAGS = {"dagster/retry_on_asset_or_op_failure": "false"}  # an op failure is final: the op's policy already retried locks


class DativoFleet(dg.ConfigurableResource):
    """Where the stacks are and what a materialization runs (defaults: the DATIVO_* environment, dativo_infra.dagster.settings)."""

    project_dir: str = "."
    jobs_dir: Optional[str] = None
    assets_dir: Optional[str] = None
    mode: str = "plan"
    secrets_provider: Optional[str] = None

    @classmethod
    def from_settings(cls, settings: FleetSettings) -> "DativoFleet":
        return cls(project_dir=settings.project_dir, jobs_dir=settings.jobs_dir, assets_dir=settings.assets_dir,
                   mode=settings.mode, secrets_provider=settings.secrets_provider)

    def settings(self) -> FleetSettings:
        return FleetSettings(project_dir=self.project_dir, jobs_dir=self.jobs_dir, assets_dir=self.assets_dir, mode=self.mode,
                             secrets_provider=self.secrets_provider)


def _failure(failed: StackRunFailed) -> dg.Failure:
    errors = [p.as_dict() for p in failed.problems]
    return dg.Failure(description=str(failed), metadata={"errors": errors, "retryable": failed.retryable}, allow_retries=failed.retryable)


def _tag_run(context: Union[dg.AssetExecutionContext, dg.OpExecutionContext], tags: dict[str, str]) -> None:
    """Add the tags a run lacks (a run launched from the UI has only its partition); a queue sees them on the next run."""
    missing = {k: v for k, v in tags.items() if context.run.tags.get(k) != v}
    if missing:
        context.instance.add_run_tags(context.run.run_id, missing)


def execute(context: Union[dg.AssetExecutionContext, dg.OpExecutionContext], fleet: DativoFleet, operation: str) -> StackRun:
    """Run ``operation`` on the partition's stack; Pulumi's output goes to the step's captured stdout."""
    key = context.partition_key
    try:
        settings = fleet.settings()  # a mode given in a run's config is checked here
    except ConfigError as exc:
        raise dg.Failure(description=str(exc), metadata={"errors": [p.as_dict() for p in exc.problems]}, allow_retries=False) from None
    try:
        ref: StackRef = find_stack(settings, key, operation)
        _tag_run(context, run_tags(ref, operation, settings.project()))
        run = run_stack(settings, ref, operation, on_output=lambda line: sys.stdout.write(line if line.endswith("\n") else line + "\n"))
    except StackRunFailed as failed:
        context.log.error(str(failed))
        raise _failure(failed) from None
    _tag_run(context, run.tags)
    context.log.info(f"{operation} {key}: {run.metadata.get('summary', '')}")
    return run


@dg.asset(key=STACK_ASSET_KEY, partitions_def=PARTITIONS, group_name="dativo_fleet", retry_policy=LOCK_RETRY, pool=POOL,
          kinds={"pulumi"}, description=f"A tenant stack (<tenant>-<environment>): its materialization runs the fleet mode ({', '.join(MODES)}).")
def stack_asset(context: dg.AssetExecutionContext, dativo: DativoFleet) -> dg.MaterializeResult:
    run = execute(context, dativo, dativo.mode)
    return dg.MaterializeResult(metadata=run.metadata)


FLEET_JOB_NAME = "dativo_fleet"
OPERATION_JOB_NAMES = {operation: f"dativo_{operation}" for operation in OPERATIONS}


def _partition_config(settings: FleetSettings, operation: str) -> dg.PartitionedConfig:
    """No run config; the stack's run tags (:func:`.stacks.partition_run_tags`) on every run, however it is launched."""
    return dg.PartitionedConfig(PARTITIONS, run_config_for_partition_key_fn=lambda key: {},
                                tags_for_partition_key_fn=lambda key: partition_run_tags(settings, key, operation))


def fleet_job(settings: FleetSettings) -> "UnresolvedAssetJobDefinition":
    """Materialize tenant stacks: the fleet mode's operation on each partition."""
    return dg.define_asset_job(FLEET_JOB_NAME, selection=[STACK_ASSET_KEY], tags=JOB_TAGS, config=_partition_config(settings, settings.mode),
                               description="Materialize tenant stacks: the fleet mode's operation (DATIVO_FLEET_MODE) on each partition.")


def operation_job(operation: str, settings: FleetSettings, retry_policy: dg.RetryPolicy = LOCK_RETRY) -> dg.JobDefinition:
    """A partitioned job running ``operation`` on one stack (``retry_policy``: for lock conflicts only)."""

    @dg.op(name=f"{operation}_stack", retry_policy=retry_policy, pool=POOL, out=dg.Out(dg.Nothing))
    def run_operation(context: dg.OpExecutionContext, dativo: DativoFleet) -> None:
        run = execute(context, dativo, operation)
        # up deploys the stack: a materialization; a plan, preview or refresh reports on it: an observation
        event = dg.AssetMaterialization if operation == "up" else dg.AssetObservation
        context.log_event(event(asset_key=STACK_ASSET_KEY, partition=context.partition_key, metadata=run.metadata))

    @dg.job(name=OPERATION_JOB_NAMES[operation], tags=JOB_TAGS, config=_partition_config(settings, operation),
            description=f"Run `{operation}` on one tenant stack.")
    def operation_job() -> None:
        run_operation()

    return operation_job

