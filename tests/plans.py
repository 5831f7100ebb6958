"""Helpers for tests that plan stacks under the mock runtime (real provider SDK classes)."""
from __future__ import annotations

import inspect
import json
from functools import cache

from dativo_infra.plan import Plan, plan_stack, sdk_class
from dativo_infra.program import StackSettings

from .conftest import JOBS


@cache
def plan(tenant: str, environment: str, jobs_dir: str = str(JOBS)) -> Plan:
    return plan_stack(stack_settings(tenant, environment, jobs_dir=jobs_dir))


def accepts(token: str, parameter: str) -> bool:
    cls = sdk_class(token)
    return cls is not None and parameter in inspect.signature(cls._internal_init).parameters


def policy_documents(resources, key: str = "policy") -> list[dict]:
    """Identity policies (``policy``) or trust policies (``assumeRolePolicy``) in a plan."""
    return [json.loads(r.inputs[key]) for r in resources if isinstance(r.inputs.get(key), str)]


def custom(resources) -> list:
    """The cloud resources of a plan (not the dativo components)."""
    return [r for r in resources if r.custom]


def of_type(resources, typ: str) -> list:
    return [r for r in resources if r.type == typ]


def one(resources, typ: str):
    """The single resource of type ``typ``; fails naming what was found otherwise."""
    found = of_type(resources, typ)
    assert len(found) == 1, (typ, [r.name for r in found])
    return found[0]


def stack_settings(tenant: str, environment: str, jobs_dir: str = str(JOBS), **kw) -> StackSettings:
    """The stack's context as the project folder gives it (Pulumi.yaml and the stack file), with these folders and values."""
    from dataclasses import replace

    from dativo_infra.stack import Project

    from .conftest import ROOT

    return replace(Project(str(ROOT)).context(tenant, environment), jobs_dir=jobs_dir, **kw)


def resolved(job, image=None, project_dir=None):
    """A loaded job resolved in its stack (the repository's Pulumi.yaml and stack files unless ``project_dir``)."""
    from dativo_infra.resolve import Resolver
    from dativo_infra.stack import Flags, Project

    from .conftest import ROOT

    return Resolver(Project(str(project_dir or ROOT), Flags(image=image)))(job)


def variables_of(job, image=None) -> dict:
    return dict(resolved(job, image).variables)
