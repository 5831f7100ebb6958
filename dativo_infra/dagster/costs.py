"""A stack's estimated monthly cost for its run's metadata, from :mod:`dativo_infra.cost` (issue 15) when it is there.

The estimate reads each job's flat variables, resolved as the program resolves
them (:func:`dativo_infra.program.load_stack_jobs` over the discovery's files),
priced with the shipped tables and the stack config's node prices. A job the
tables cannot price is named in ``cost_problems``; the run itself does not fail
for it (the cost is a report, not a gate). No Dagster import here.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import DativoError
from ..fleet import StackRef

__all__ = ["stack_cost"]


def stack_cost(context: Any, ref: StackRef) -> dict[str, Any]:
    """``cost_by_job`` (an average month, as decimal text) and ``cost_currency``; ``monthly_cost`` when every job is
    priced; ``cost_problems`` for those that are not; {} without the cost module."""
    try:
        from ..cost import StackCost, estimate_job, load_prices
    except ImportError:
        return {}
    from ..program import load_stack_jobs

    try:
        book = load_prices(None)
        stack = StackCost.from_config(context.config, context.source)
        jobs = load_stack_jobs(context, ref.files, ref.buckets)
    except DativoError as exc:
        return {"cost_problems": [p.render() for p in exc.problems]}
    by_job: dict[str, Decimal] = {}
    problems: list[str] = []
    for job in sorted(jobs, key=lambda j: j.name):
        try:
            by_job[job.name] = estimate_job(job.variables, book, stack=stack, file=job.path).monthly_cost
        except DativoError as exc:
            problems.extend(p.render() for p in exc.problems)
    metadata: dict[str, Any] = {"cost_currency": book.currency, "cost_by_job": {name: str(cost) for name, cost in by_job.items()}}
    if problems:
        metadata["cost_problems"] = problems  # no total: a sum that leaves jobs out would read as the stack's cost
    else:
        metadata["monthly_cost"] = float(sum(by_job.values(), Decimal(0)))
    return metadata
