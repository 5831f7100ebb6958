"""A stack's cost settings, from its config: Kubernetes node prices, a monthly budget and how hard a budget fails.

    dativo-infra:nodePrices: {vcpuHour: "0.0445", gibHour: "0.0049225"}   # per vCPU-hour and per GiB-hour of a node
    dativo-infra:monthlyBudget: "500"                                     # the stack's jobs together, per month
    dativo-infra:budgetSeverity: warn                                     # warn (default) or error, as a tag policy rule

Values may be given as Pulumi stores them (``pulumi config set`` writes objects as JSON text).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from ..errors import ConfigError, Problem
from ..stack import NAMESPACE

__all__ = ["NodePrices", "StackCost", "parse_amount"]

MAX_AMOUNT_DIGITS, MAX_DECIMALS = 15, 12
SEVERITIES = ("warn", "error")  # the tag policy's severities (dativo_infra.policy.model.Severity)


@dataclass(frozen=True)
class NodePrices:
    vcpu_hour: Decimal
    gib_hour: Decimal
    source: str  # the stack file that set them


@dataclass(frozen=True)
class StackCost:
    """Stack-level cost settings; the default (no settings) has no node prices and no budget."""

    node_prices: Optional[NodePrices] = None
    monthly_budget: Optional[Decimal] = None
    budget_severity: str = "warn"
    source: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any], source: str = "stack config") -> StackCost:
        problems: list[Problem] = []
        node = _node_prices(config.get(f"{NAMESPACE}:nodePrices"), source, problems)
        budget_key = f"{NAMESPACE}:monthlyBudget"
        budget = config.get(budget_key)
        monthly_budget = parse_amount(budget, source, budget_key, problems) if budget not in (None, "") else None
        severity = config.get(f"{NAMESPACE}:budgetSeverity") or "warn"
        if severity not in SEVERITIES:
            problems.append(Problem(source, f"{severity!r} is not a severity; use warn or error", field=f"{NAMESPACE}:budgetSeverity"))
        if problems:
            raise ConfigError(problems)
        return cls(node, monthly_budget, str(severity), source)


def parse_amount(value: Any, source: str, key: str, problems: list[Problem]) -> Optional[Decimal]:
    """A non-negative amount written as a number or a string; a problem otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        problems.append(Problem(source, f"must be an amount (e.g. \"0.0445\"), got {value!r}", field=key))
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        problems.append(Problem(source, f"{value!r} is not a non-negative amount (e.g. \"0.0445\")", field=key))
        return None
    # bounded as the price tables' amounts are: 1e999999 would make the exact arithmetic build a million-digit number
    if amount and (amount.adjusted() >= MAX_AMOUNT_DIGITS or amount.normalize().as_tuple().exponent < -MAX_DECIMALS):  # type: ignore[operator]
        problems.append(Problem(source, f"{value!r} is out of range: an amount below 10^{MAX_AMOUNT_DIGITS} with at most {MAX_DECIMALS} "
                                        "decimal places (e.g. \"0.0445\")", field=key))
        return None
    return amount


def _node_prices(value: Any, source: str, problems: list[Problem]) -> Optional[NodePrices]:
    key = f"{NAMESPACE}:nodePrices"
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or set(value) != {"vcpuHour", "gibHour"}:
        problems.append(Problem(source, "must be an object {vcpuHour: PRICE, gibHour: PRICE}: a node's price per vCPU-hour and per "
                                        "GiB-hour (pulumi config set --path 'dativo-infra:nodePrices.vcpuHour' 0.0445)", field=key))
        return None
    vcpu = parse_amount(value["vcpuHour"], source, f"{key}.vcpuHour", problems)
    gib = parse_amount(value["gibHour"], source, f"{key}.gibHour", problems)
    return NodePrices(vcpu, gib, source) if vcpu is not None and gib is not None else None
