"""Data sources (invokes) are read once per stack, not once per job: fewer calls to the provider, the same plan."""
from __future__ import annotations

import json

import pytest

from dativo_infra.plan import PlanMocks, plan_stack
from dativo_infra.program import StackSettings  # noqa: F401 - the name the tests once used

from .conftest import JOBS
from .plans import stack_settings


@pytest.fixture
def invokes(monkeypatch):
    calls: list[tuple[str, str]] = []
    call = PlanMocks.call

    def recording(self, args):
        calls.append((args.token, json.dumps(dict(args.args), sort_keys=True, default=str)))
        return call(self, args)

    monkeypatch.setattr(PlanMocks, "call", recording)
    return calls


def test_each_data_source_is_read_once_per_stack(invokes):
    plan = plan_stack(stack_settings("acme", "prod", jobs_dir=str(JOBS)))
    aws_jobs = {r.job for r in plan.resources if r.job and r.type.startswith("aws:")}
    assert len(aws_jobs) >= 3  # ECS jobs and EKS identities all read the region, the account or a cluster
    assert len(invokes) == len(set(invokes)), invokes
    assert "aws:index/getRegion:getRegion" not in [t for t, _ in invokes]  # the region is the job's or the stack's, never looked up
    # what the lookups answer still reaches every job that needs it
    logs = [json.loads(r.inputs["containerDefinitions"])[0]["logConfiguration"]["options"]["awslogs-region"]
            for r in plan.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert len(logs) >= 2 and set(logs) == {"us-east-1"}


def test_lookups_are_not_shared_between_stacks(invokes):
    plan_stack(stack_settings("acme", "prod", jobs_dir=str(JOBS)))
    first = list(invokes)
    invokes.clear()
    plan_stack(stack_settings("acme", "prod", jobs_dir=str(JOBS)))  # a new stack (and event loop): its own lookups
    assert sorted(invokes) == sorted(first) and first
