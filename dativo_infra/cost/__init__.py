"""Cost before deployment (issue 15): each job's monthly estimate from its flat variables, rolled up and checked
against budgets.

    book = load_prices(None)                      # the shipped tables (dativo_infra/cost/prices/*.yaml)
    estimate = estimate_job(variables, book, month=(2026, 3), stack=StackCost.from_config(context.config))
    estimate.as_dict()                            # the `cost --json` job record
    rollup([estimate, ...], by="dativo:cost-center")

Pure and typed: nothing here prints; ``dativo-infra cost`` renders. docs/cost.md is the user guide.
"""
from .budgets import BudgetFinding, check_budgets
from .estimate import CENT, JobEstimate, Line, estimate_job, json_number, money, repeated_hour_policy
from .focus import COLUMNS, focus_csv, focus_rows
from .prices import FreeGrant, Price, PriceBook, PriceError, load_prices, parse_price_file
from .rollup import DIMENSIONS, FreeGrantLine, Group, check_by, free_grant_lines, group_value, rollup, total
from .settings import NodePrices, StackCost

__all__ = [
    "CENT", "COLUMNS", "DIMENSIONS", "BudgetFinding", "FreeGrant", "FreeGrantLine", "Group", "JobEstimate", "Line", "NodePrices",
    "Price", "PriceBook", "PriceError", "StackCost", "check_budgets", "check_by", "estimate_job", "focus_csv", "json_number", "focus_rows",
    "free_grant_lines", "group_value", "load_prices", "money", "parse_price_file", "repeated_hour_policy", "rollup", "total",
]
