"""Totals of many job estimates: by tenant, environment, cost center, project or any tag key; free grants beside them.

A group's cost and the grand total are sums of the jobs' rounded monthly costs, so the JSON's totals always equal
the sum of its jobs. Tag values are matched as they land in each cloud (a key is found in the cloud's own spelling,
``dativo:cost-center`` is ``dativo-cost-center`` in GCP labels) and compared ignoring case, since GCP lowercases them.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from ..errors import ConfigError, Problem
from .estimate import JobEstimate, json_number
from .prices import PriceBook

__all__ = ["DIMENSIONS", "FreeGrantLine", "Group", "free_grant_lines", "group_value", "rollup", "total"]

# --by names that are no tag: read from the estimate itself
DIMENSIONS = {"tenant": "tenant", "environment": "environment", "provider": "provider", "runtime": "runtime", "region": "region",
              "job": "job"}
TAG_ALIASES = {"cost-center": "dativo:cost-center", "project": "dativo:project"}
MAX_KEY = 128


@dataclass(frozen=True)
class Group:
    key: str
    value: Optional[str]  # None: the jobs that do not carry the tag
    monthly_cost: Decimal
    jobs: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "monthly_cost": json_number(self.monthly_cost), "jobs": self.jobs}


def _cloud_key(key: str, cloud: str) -> Optional[str]:
    from ..policy import cloud_key

    return cloud_key(key, cloud)


def group_value(estimate: JobEstimate, by: str) -> Optional[str]:
    """The value a job has for ``by``: an estimate field, or its tag (in its cloud's spelling of the key)."""
    if by in DIMENSIONS:
        return str(getattr(estimate, DIMENSIONS[by]))
    key = TAG_ALIASES.get(by, by)
    formatted = _cloud_key(key, estimate.provider)
    for candidate in (formatted, key):
        if candidate is not None and candidate in estimate.tags:
            return str(estimate.tags[candidate])
    return None


def check_by(by: str, estimates: Sequence[JobEstimate]) -> str:
    """``by`` itself when usable; a problem when it is malformed or no job carries such a tag (a typo, most likely)."""
    if not by or len(by) > MAX_KEY or any(c.isspace() for c in by) or not by.isprintable():
        raise ConfigError([Problem("--by", f"{by!r} is not a grouping: use tenant, environment, cost-center, project, provider, runtime, "
                                           "region, job, or a tag key (e.g. dativo:cost-center)", field="by")])
    if by in DIMENSIONS or not estimates or any(group_value(e, by) is not None for e in estimates):
        return by
    keys = sorted({k for e in estimates for k in e.tags} | set(DIMENSIONS) | set(TAG_ALIASES))
    close = difflib.get_close_matches(by, keys, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError([Problem("--by", f"no estimated job carries the tag {by!r}{hint} (tag keys as written in the jobs: "
                                       f"{', '.join(sorted({k for e in estimates for k in e.tags})[:20])})", field="by")])


def rollup(estimates: Iterable[JobEstimate], by: str) -> list[Group]:
    """One group per value of ``by`` (case-insensitive for tags), sorted by value; jobs without it last (value None)."""
    sums: dict[Optional[str], list] = {}
    names: dict[Optional[str], str] = {}
    for estimate in estimates:
        value = group_value(estimate, by)
        folded = value.casefold() if value is not None and by not in DIMENSIONS else value
        if folded not in names or (value is not None and value != value.lower() and names[folded] == names[folded].lower()):
            names[folded] = value  # type: ignore[assignment]  # a spelling with capitals wins over a lowercased label
        entry = sums.setdefault(folded, [Decimal(0), 0])
        entry[0] += estimate.monthly_cost
        entry[1] += 1
    key = TAG_ALIASES.get(by, by)
    ordered = sorted(sums, key=lambda v: (v is None, v or ""))
    return [Group(key, names[v], sums[v][0], sums[v][1]) for v in ordered]


def total(estimates: Iterable[JobEstimate]) -> Decimal:
    """The sum of the jobs' rounded monthly costs."""
    return sum((e.monthly_cost for e in estimates), Decimal(0))


@dataclass(frozen=True)
class FreeGrantLine:
    """A monthly free grant, shown once beside the estimate and never subtracted from any job."""

    item: str
    service: str
    quantity: Decimal
    unit: str
    scope: str
    used: Fraction  # what the estimated jobs use of the item the grant covers
    value: Fraction  # min(used, quantity) at the price the grant is valued at: the most it could save, per billing account

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "service": self.service, "quantity": json_number(self.quantity), "unit": self.unit, "scope": self.scope,
                "estimated_use": json_number(self.used), "up_to": json_number(self.value), "subtracted": False}


def free_grant_lines(estimates: Sequence[JobEstimate], prices: PriceBook) -> list[FreeGrantLine]:
    """The grants that cover something the estimated jobs use (Cloud Run, Container Apps), once each."""
    out = []
    for grant in sorted(prices.free_grants.values(), key=lambda g: g.item):
        used = sum((line.quantity for e in estimates for line in e.lines if line.item == grant.applies_to), Fraction(0))
        if not used:
            continue
        price = prices.price(grant.applies_to, grant.valued_at).price
        out.append(FreeGrantLine(grant.item, grant.service, grant.quantity, grant.unit, grant.scope, used,
                                 min(used, Fraction(grant.quantity)) * Fraction(price)))
    return out
