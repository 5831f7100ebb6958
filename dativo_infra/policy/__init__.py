"""Tag policy (issue 14): rules on job tags, their enforcement, coverage of plans, cost-allocation activation.

Pure and typed: nothing here prints; the command line renders findings and records.
"""
from .activation import PROVIDERS, activation, render_activation
from .coverage import DEFAULT_KEYS, coverage, fleet_coverage, render_coverage, resource_tags, taggable
from .evaluate import MISSING, Finding, check_tags, cloud_key, evaluate, has_errors, required_keys, value_problem
from .model import Policy, Rule, load_policy, parse_policy

__all__ = [
    "DEFAULT_KEYS", "MISSING", "PROVIDERS", "Finding", "Policy", "Rule", "activation", "check_tags", "cloud_key", "coverage",
    "evaluate", "fleet_coverage", "has_errors", "load_policy", "parse_policy", "render_activation", "render_coverage",
    "required_keys", "resource_tags", "taggable", "value_problem",
]
