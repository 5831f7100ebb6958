"""The components' typed arguments (dativo_infra/components/args.py) against the one flat variable set.

The dataclasses name exactly the variables :func:`dativo_infra.variables.job_variables`
writes for each runtime, so a variable added, renamed or removed on one side fails here
until the other follows; every example job's variables build its runtime's class with
values of the declared types.
"""
from __future__ import annotations

import dataclasses
import importlib
import typing

import pytest

from dativo_infra.components import COMPONENTS
from dativo_infra.components.args import RUNTIME_ARGS, CloudRunArgs, CommonArgs, ContainerAppsArgs, EcsArgs, KubernetesArgs, fields_of
from dativo_infra.jobs import load_jobs
from dativo_infra.variables import COMMON_VARIABLES, RUNTIME_VARIABLES, generated_names

from .conftest import JOBS
from .plans import resolved

RUNTIMES = sorted(RUNTIME_VARIABLES)
EXAMPLES = [job for job in load_jobs([str(JOBS)]).jobs if job.infrastructure is not None]
SCALARS = (str, int, float, bool)


def names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def conforms(value: object, hint: object) -> bool:
    """``value`` is of the field type ``hint`` (an int is a float, as in PEP 484; a bool is never a number)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if origin is typing.Union:  # Optional[X]: X or None
        return any(conforms(value, arg) for arg in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def test_one_class_per_runtime():
    assert sorted(RUNTIME_ARGS) == RUNTIMES
    assert [RUNTIME_ARGS[r] for r in ("ecs", "cloud_run", "container_apps", "kubernetes")] == [
        EcsArgs, CloudRunArgs, ContainerAppsArgs, KubernetesArgs]
    assert all(issubclass(cls, CommonArgs) for cls in RUNTIME_ARGS.values())


def test_common_fields_are_the_common_variables():
    assert names(CommonArgs) == set(COMMON_VARIABLES)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_fields_are_the_generated_variables(runtime):
    cls = RUNTIME_ARGS[runtime]
    assert names(cls) == generated_names(runtime)
    assert names(cls) - names(CommonArgs) == set(RUNTIME_VARIABLES[runtime])


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_fields_are_frozen_and_plainly_typed(runtime):
    cls = RUNTIME_ARGS[runtime]
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    allowed = {*SCALARS, list[str], dict[str, str], dict[str, typing.Optional[float]], typing.Optional[int]}
    hints = typing.get_type_hints(cls)
    assert {name: hint for name, hint in hints.items() if hint not in allowed} == {}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_component_takes_its_runtimes_class(runtime):
    module, name = COMPONENTS[runtime]
    assert getattr(importlib.import_module(module), name).ARGS is RUNTIME_ARGS[runtime]


@pytest.mark.parametrize("job", EXAMPLES, ids=lambda job: f"{job.tenant}/{job.name}")
def test_every_example_jobs_variables_build_its_args(job):
    variables = resolved(job).variables
    cls = RUNTIME_ARGS[job.runtime]
    args = cls.from_variables(variables)
    hints = typing.get_type_hints(cls)
    for name, value in variables.items():
        assert getattr(args, name) is value  # the very values: nothing is converted or computed again
        assert conforms(value, hints[name]), f"{name}: {value!r} is not a {hints[name]}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.name_prefix = "other"  # type: ignore[misc]


def test_a_missing_or_unknown_variable_fails_loudly_naming_each():
    variables = dict(resolved(next(j for j in EXAMPLES if j.runtime == "ecs")).variables)
    del variables["vpc_id"], variables["tags"]
    variables["enable_spot"] = True
    with pytest.raises(ValueError, match=r"EcsArgs: .*missing tags, vpc_id; unknown enable_spot"):
        EcsArgs.from_variables(variables)
    cloud_run = resolved(next(j for j in EXAMPLES if j.runtime == "cloud_run")).variables
    with pytest.raises(ValueError, match=r"missing assign_public_ip, cluster_name.*; unknown cpu_limit"):
        EcsArgs.from_variables(cloud_run)  # another runtime's set


def test_fields_of_reads_args_or_a_mapping_by_attribute():
    variables = resolved(next(j for j in EXAMPLES if j.runtime == "kubernetes")).variables
    args = KubernetesArgs.from_variables(variables)
    assert fields_of(args, KubernetesArgs) is args
    view = fields_of({"storage_bucket": "b", "extra": 1}, CommonArgs)
    assert (view.storage_bucket, view.extra) == ("b", 1)  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no variable 'storage_prefix'"):
        _ = view.storage_prefix
    with pytest.raises(TypeError, match="expected KubernetesArgs or a mapping of variables, got EcsArgs"):
        fields_of(EcsArgs.from_variables(resolved(next(j for j in EXAMPLES if j.runtime == "ecs")).variables), KubernetesArgs)
