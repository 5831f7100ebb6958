"""Stacks prepared ahead: with ``--parallel 2`` and more, the parent resolves each stack's jobs while the
template loads the provider SDKs, and the worker plans from them. The plan must be the one the worker
would have made from the files, byte for byte, and a stack the parent cannot prepare is left to its worker."""
from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest

import dativo_infra.program as program
from dativo_infra.fleet import StackRecord, Workers, _plan, _prepare, _Task, discover_stacks
from dativo_infra.stack import Project

from .conftest import JOBS
from .test_fleet import make_tree

ROOT = Path(__file__).resolve().parent.parent


def tasks_for(jobs: Path, out: Path, project_dir: Path = ROOT) -> list[_Task]:
    found = discover_stacks(str(jobs), project=Project(str(project_dir)))
    return [_Task("plan", s, str(jobs), str(JOBS / "assets"), None, (), None, str(out), str(project_dir)) for s in found.stacks]


def planned(task: _Task) -> tuple[StackRecord, bytes]:
    assert task.output_dir is not None
    Path(task.output_dir).mkdir(parents=True, exist_ok=True)  # as run_fleet does
    record = StackRecord(task.stack.tenant, task.stack.environment, "plan", ok=False)
    _plan(task, record, {})
    return record, Path(task.output_dir, f"{task.stack.name}.json").read_bytes()


def test_a_prepared_stack_plans_byte_for_byte_what_its_worker_plans_from_the_files(tmp_path, monkeypatch):
    """The example stacks (four runtimes, stack files, shared jobs): the worker does not read a job file again."""
    tasks = tasks_for(JOBS, tmp_path / "from-files")
    assert {t.stack.name for t in tasks} == {"acme-prod", "globex-prod", "globex-staging"}
    expected = [planned(t) for t in tasks]
    projects: dict = {}
    prepared = [replace(t, prepared=_prepare(t, projects), output_dir=str(tmp_path / "prepared")) for t in tasks]
    assert all(t.prepared is not None for t in prepared)

    def read_again(*args, **kwargs):
        raise AssertionError("a prepared stack's jobs were loaded again")

    monkeypatch.setattr(program, "load_stack_jobs", read_again)
    for task, (record, text) in zip(prepared, expected, strict=True):
        again, again_text = planned(task)
        assert again_text == text
        assert (again.resources, again.jobs, again.warnings) == (record.resources, record.jobs, record.warnings)


def test_a_stack_with_problems_is_left_to_its_worker_which_reports_them_as_before(tmp_path):
    jobs = make_tree(tmp_path, tenants=("globex",), broken="initech")
    tasks = {t.stack.name: t for t in tasks_for(jobs, tmp_path / "out")}
    assert _prepare(tasks["initech-staging"], {}) is None
    assert _prepare(tasks["globex-staging"], {}) is not None
    record = StackRecord("initech", "staging", "plan", ok=False)
    with pytest.raises(program.StackError) as caught:
        _plan(tasks["initech-staging"], record, {})
    assert any("cpu" in p.render() for p in caught.value.problems)


def test_jobs_resolved_with_another_context_are_not_used(tmp_path, monkeypatch):
    """The program checks the prepared jobs were resolved with its own context; else it reads the files."""
    task = next(t for t in tasks_for(JOBS, tmp_path / "out") if t.stack.name == "acme-prod")
    _, expected = planned(task)
    context, resolved_with, jobs = pickle.loads(_prepare(task, {}) or b"")
    other = replace(resolved_with, image="registry.example.com/other:1")
    calls = []
    real = program.load_stack_jobs
    monkeypatch.setattr(program, "load_stack_jobs", lambda *a, **k: calls.append(a) or real(*a, **k))
    _, text = planned(replace(task, prepared=pickle.dumps((context, other, jobs))))
    assert len(calls) == 1 and text == expected


class FakeTemplate:
    """Still loading for the first ``loading_for`` checks."""

    def __init__(self, loading_for: int) -> None:
        self.left, self.asked = loading_for, 0

    def ask(self) -> None:
        self.asked += 1

    def loading(self) -> bool:
        self.left -= 1
        return self.left >= 0

    def close(self, wait: float = 0) -> None:
        pass


def test_preparing_stops_as_soon_as_the_first_worker_is_ready(tmp_path):
    tasks = tasks_for(JOBS, tmp_path / "out")
    with Workers(0, "plan") as workers:  # no process started: the template is a stand-in
        workers.template = FakeTemplate(loading_for=2)  # type: ignore[assignment]
        done = workers.prepare(tasks)
        assert workers.template.asked == 1  # type: ignore[union-attr]
        workers.template = None
    assert [t.stack for t in done] == [t.stack for t in tasks]
    assert [t.prepared is not None for t in done] == [True, True, False]


def test_other_operations_are_not_prepared(tmp_path):
    tasks = [replace(t, operation="preview") for t in tasks_for(JOBS, tmp_path / "out")]
    with Workers(0, "preview") as workers:
        workers.template = FakeTemplate(loading_for=10)  # type: ignore[assignment]
        assert workers.prepare(tasks) == tasks and workers.template.asked == 0  # type: ignore[union-attr]
        workers.template = None
