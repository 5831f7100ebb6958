"""Tenant stacks on Dagster: a partition per stack, plan/preview/up/refresh as runs, a sensor that applies job-file changes.

Install with ``pip install dativo-infra[dagster]``; load with
``dagster dev -m dativo_infra.dagster`` (docs/dagster.md)::

    from dativo_infra.dagster import stack_partitions, defs

    stack_partitions()   # ['acme-prod', 'globex-prod', 'globex-staging']: one per stack `plan --all` finds
    defs                 # dagster.Definitions, configured from DATIVO_JOBS_DIR, DATIVO_ASSETS_DIR, DATIVO_FLEET_MODE

``stack_partitions`` needs no Dagster; ``defs`` (and ``build_definitions``)
import it on first use, so nothing else in dativo-infra ever loads Dagster.
"""
from __future__ import annotations

from typing import Any

from .settings import MODES, OPERATIONS, FleetSettings
from .stacks import FleetStacks, find_stacks, stack_partitions

__all__ = ["MODES", "OPERATIONS", "FleetSettings", "FleetStacks", "build_definitions", "defs", "find_stacks", "stack_partitions"]


def __getattr__(name: str) -> Any:
    if name in ("defs", "build_definitions"):
        from . import definitions

        return getattr(definitions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # Dagster's loader finds `defs` through dir() (inspect.getmembers)
    return sorted({*globals(), "defs", "build_definitions"})
