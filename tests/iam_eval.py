"""A small IAM identity-policy evaluator: OUR OWN code, written for the tenant-isolation test.

Why our own: the tools at hand cannot answer "may this role read that key / list that prefix?"
for the policies dativo-infra writes (docs/cloud-limits.md §6, re-checked):

- moto 5 (``moto.iam.access_control.IAMPolicy``) ignores ``StringLike`` (only ``StringEquals`` is
  implemented; an unknown operator counts as met), treats a missing condition key as met, builds its
  ``Resource`` regex without escaping (``.`` matches any character, ``?`` is a regex quantifier) and
  matches actions case-sensitively;
- principalmapper (2022) does not substitute policy variables in condition values;
- the PyPI candidates looked at (sibyl-aws 0.3, npkt 1.0) simulate SCPs: they match ARNs
  case-insensitively with ``fnmatch`` (``[...]`` becomes a character class) and compare
  ``StringEquals`` case-insensitively.

So this module implements exactly the subset our identity policies use, following the IAM User
Guide ("Policy evaluation logic", "IAM JSON policy elements: Action / NotAction / Resource /
NotResource / Condition", "Condition operators", "Policy variables"):

- a request is allowed when some ``Allow`` statement matches and no ``Deny`` statement matches
  (explicit deny wins; nothing matching is an implicit deny);
- a statement matches when its ``Action`` (or not its ``NotAction``) matches the action, its
  ``Resource`` (or not its ``NotResource``) matches the resource ARN, and every condition holds;
- ``Action`` patterns: ``*`` and ``?`` globs, case-INsensitive ("iam:ListAccessKeys is the same
  as IAM:listaccesskeys"); ``Resource`` patterns: ``*`` (any run of characters, ``/`` and ``:``
  included) and ``?`` (one character) globs, case-SENSITIVE (S3 object keys are case sensitive);
- conditions: operators are AND-ed, keys within an operator are AND-ed, the values of one key are
  OR-ed. ``StringEquals`` / ``StringNotEquals`` (exact, case-sensitive),
  ``StringEqualsIgnoreCase``, ``StringLike`` / ``StringNotLike`` (``*``/``?`` globs, case-sensitive),
  ``ArnEquals`` / ``ArnLike`` (globs; the docs give both the same wildcard semantics) and the
  ``...IfExists`` forms. A key absent from the request makes a positive operator false and a
  negated one (``...Not...``) true; ``...IfExists`` makes an absent key true;
- policy variables: ``${*}``, ``${?}`` and ``${$}`` are the literal characters; any other
  ``${...}`` in a ``Resource`` or condition value matches ANYTHING (any run of characters).
  That is deliberately conservative: the question the tests ask is "can this policy ever
  grant X", and a variable's value is chosen at request time (a principal tag, a user name).

Anything else (``ForAnyValue:``/``ForAllValues:``, numeric/date/IP/Bool operators, ``Principal``
in an identity policy, an unknown operator) raises :class:`Unsupported` rather than guessing.
Tested against cases from the IAM docs in tests/test_tenant_isolation.py, and cross-checked with
moto where moto is right (unconditioned statements, ARNs without regex metacharacters).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Optional

__all__ = ["ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY", "Decision", "Unsupported", "evaluate", "glob_match"]

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


class Unsupported(ValueError):
    """The policy uses something this evaluator does not implement."""


@dataclass(frozen=True)
class Decision:
    result: str
    statement: Optional[dict] = None  # the statement that decided (the allowing or the denying one)

    @property
    def allowed(self) -> bool:
        return self.result == ALLOW


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}


@cache
def _compile(pattern: str, ignore_case: bool, variables: bool) -> re.Pattern:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if variables and pattern.startswith("${", i):
            m = _VARIABLE.match(pattern, i)
            if m:
                name = m.group(1)
                parts.append(re.escape(_LITERAL_VARIABLES[name]) if name in _LITERAL_VARIABLES else ".*")
                i = m.end()
                continue
        ch = pattern[i]
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False, variables: bool = True) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one; ``${var}`` anything (see module doc)."""
    return _compile(pattern, ignore_case, variables).match(value) is not None


def _values(element: Any) -> list:
    return element if isinstance(element, list) else [element]


def _action_matches(statement: Mapping, action: str) -> bool:
    if "Action" in statement:
        return any(glob_match(p, action, ignore_case=True, variables=False) for p in _values(statement["Action"]))
    if "NotAction" in statement:
        return not any(glob_match(p, action, ignore_case=True, variables=False) for p in _values(statement["NotAction"]))
    raise Unsupported("statement without Action or NotAction")


def _resource_matches(statement: Mapping, resource: str) -> bool:
    if "Resource" in statement:
        return any(glob_match(p, resource) for p in _values(statement["Resource"]))
    if "NotResource" in statement:
        return not any(glob_match(p, resource) for p in _values(statement["NotResource"]))
    raise Unsupported("identity-policy statement without Resource or NotResource")


def _string_equals(patterns: Iterable[str], value: str) -> bool:
    # a variable in a condition value matches anything (conservative); otherwise exact
    return any(glob_match(p, value, variables=True) if "${" in p else p == value for p in patterns)


_POSITIVE = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": lambda ps, v: any(glob_match(p, v, ignore_case=True) if "${" in p else p.lower() == v.lower() for p in ps),
    "StringLike": lambda ps, v: any(glob_match(p, v) for p in ps),
    "ArnEquals": lambda ps, v: any(glob_match(p, v) for p in ps),
    "ArnLike": lambda ps, v: any(glob_match(p, v) for p in ps),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        raise Unsupported(f"set operator {operator}")
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    patterns = [str(p) for p in _values(expected)]
    if key not in context:
        if if_exists:
            return True
        if base in _NEGATED:
            return True
        if base in _POSITIVE:
            return False
        raise Unsupported(f"condition operator {operator}")
    value = context[key]
    if base in _POSITIVE:
        return _POSITIVE[base](patterns, value)
    if base in _NEGATED:
        return not _POSITIVE[_NEGATED[base]](patterns, value)
    raise Unsupported(f"condition operator {operator}")


def _conditions_hold(statement: Mapping, context: Mapping[str, str]) -> bool:
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, Mapping):
            raise Unsupported(f"condition block {operator!r} is not an object")
        for key, expected in block.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def _statement_matches(statement: Mapping, action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise Unsupported("Principal in an identity policy")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise Unsupported(f"Effect {statement.get('Effect')!r}")
    return _action_matches(statement, action) and _resource_matches(statement, resource) and _conditions_hold(statement, context)


def evaluate(policies: Iterable[Mapping], action: str, resource: str, context: Optional[Mapping[str, str]] = None) -> Decision:
    """The decision of these identity policies (all attached to one principal) for one request."""
    context = context or {}
    allowed_by: Optional[dict] = None
    for policy in policies:
        for statement in _values(policy.get("Statement", [])):
            if _statement_matches(statement, action, resource, context):
                if statement["Effect"] == "Deny":
                    return Decision(EXPLICIT_DENY, dict(statement))
                allowed_by = allowed_by or dict(statement)
    return Decision(ALLOW, allowed_by) if allowed_by else Decision(IMPLICIT_DENY)
