"""Budgets: a job's ``finops.monthly_budget`` (job over asset) and a stack's ``dativo-infra:monthlyBudget``.

An estimate over its budget is a finding with the tag policy's severities: ``warn`` (a warning line, exit 0) or
``error`` (the run fails, exit 2). The severity is the stack's ``dativo-infra:budgetSeverity`` (default warn).
A job's budget is checked against the job's monthly cost; a stack's against the sum of its jobs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from .estimate import JobEstimate, json_number
from .settings import StackCost

__all__ = ["BudgetFinding", "check_budgets"]


@dataclass(frozen=True)
class BudgetFinding:
    severity: str  # "error" or "warn", as the tag policy's findings
    scope: str  # "job" or "stack"
    file: str  # the job file, or the stack file that set the budget
    tenant: str
    environment: str
    job: Optional[str]
    budget: Decimal
    estimate: Decimal
    currency: str

    @property
    def message(self) -> str:
        what = f"job {self.job}" if self.scope == "job" else f"stack {self.tenant}-{self.environment}"
        return (f"{what}: estimated {self.estimate} {self.currency} a month is over its budget of {self.budget} {self.currency} "
                f"(by {self.estimate - self.budget})")

    def render(self) -> str:
        return f"{self.file}: budget: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "scope": self.scope, "file": self.file, "tenant": self.tenant, "environment": self.environment,
                "job": self.job, "budget": json_number(self.budget), "estimate": json_number(self.estimate), "message": self.message}


def check_budgets(estimates: Sequence[JobEstimate], stack_of: Callable[[str, str], StackCost]) -> list[BudgetFinding]:
    findings = []
    stacks: dict[tuple[str, str], Decimal] = {}
    for e in estimates:
        stacks[(e.tenant, e.environment)] = stacks.get((e.tenant, e.environment), Decimal(0)) + e.monthly_cost
        if e.budget is not None and e.monthly_cost > e.budget:
            severity = stack_of(e.tenant, e.environment).budget_severity
            findings.append(BudgetFinding(severity, "job", e.file, e.tenant, e.environment, e.job, e.budget, e.monthly_cost, e.currency))
    for (tenant, environment), cost in sorted(stacks.items()):
        settings = stack_of(tenant, environment)
        if settings.monthly_budget is not None and cost > settings.monthly_budget:
            currency = estimates[0].currency
            findings.append(BudgetFinding(settings.budget_severity, "stack", settings.source, tenant, environment, None,
                                          settings.monthly_budget, cost, currency))
    return findings
