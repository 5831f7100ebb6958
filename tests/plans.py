"""Helpers for tests that plan stacks under the mock runtime (real provider SDK classes)."""
from __future__ import annotations

import importlib
import inspect
import json
from functools import lru_cache
from typing import Optional

from dativo_infra.plan import Plan, plan_stack
from dativo_infra.program import StackSettings

from .conftest import JOBS

_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native", "kubernetes": "pulumi_kubernetes"}


@lru_cache(maxsize=None)
def plan(tenant: str, environment: str, jobs_dir: str = str(JOBS)) -> Plan:
    return plan_stack(StackSettings(tenant, environment, jobs_dir=jobs_dir))


def sdk_class(token: str) -> Optional[type]:
    """The provider SDK class of a type token such as ``aws:iam/role:Role`` (None for dativo components)."""
    package, module, name = token.split(":")
    if package not in _PACKAGES:
        return None
    module = module.split("/")[0] if package != "kubernetes" else module.replace("/", ".")
    path = _PACKAGES[package] + ("" if module in ("index", "") else "." + module)
    return getattr(importlib.import_module(path), name)


def accepts(token: str, parameter: str) -> bool:
    cls = sdk_class(token)
    return cls is not None and parameter in inspect.signature(cls._internal_init).parameters


def policy_documents(resources, key: str = "policy") -> list[dict]:
    """Identity policies (``policy``) or trust policies (``assumeRolePolicy``) in a plan."""
    return [json.loads(r.inputs[key]) for r in resources if isinstance(r.inputs.get(key), str)]
