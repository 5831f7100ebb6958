"""Check a job's tags against a policy: findings with the rule, the key and where the value came from.

Values are checked **as they land in the cloud**: the job's TagSet for that cloud holds formatted
keys and values, and so does its provenance (the winning level and file; the values of overridden
levels, also formatted). A rule's key is formatted with the cloud's own key formatter to find it
(``dativo:cost-center`` is ``dativo-cost-center`` in GCP labels, ``dativo.io/cost-center`` in
Kubernetes labels; Azure tag names compare ignoring case). ``values`` are formatted the same way
before they are compared. On clouds whose value formatting lowercases (GCP labels), the case
written in the job is gone, so a ``pattern`` is matched ignoring case there: ``^[A-Z]+-[0-9]+$``
accepts ``FIN-1234`` in AWS tags and its GCP label ``fin-1234`` alike, and rejects ``fin_1234`` in both.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Optional

import regex

from ..tags.formats import FORMATS, EmptyKey, ReservedKey
from .model import Policy, Rule

if TYPE_CHECKING:
    from ..tags.resolve import Provenance, TagSet

MISSING = "missing"


@dataclass(frozen=True)
class Finding:
    """One rule that one job's (or resource's) tags break."""

    severity: str  # "error" or "warn"
    job_file: str  # the job file (or, from the policy pack, the resource's URN)
    key: str  # the rule's key, as written in the policy
    cloud: str
    cloud_key: str  # the key formatted for the cloud ("" when the cloud cannot have it)
    rule: int  # the rule's number in the policy, from 1
    rule_description: str
    message: str
    level: str  # the precedence level the value came from, or "missing"
    source: Optional[str] = None  # the file of that level
    value: Optional[str] = None
    overrode: tuple[Any, ...] = field(default=())  # Override tuples of the levels the value overrode, lowest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity, "job_file": self.job_file, "key": self.key, "cloud": self.cloud,
            "cloud_key": self.cloud_key, "rule": {"index": self.rule, "description": self.rule_description},
            "message": self.message, "level": self.level, "source": self.source, "value": self.value,
            "overrode": [{"level": o.level, "source": o.source, "key": o.key, "value": o.value} for o in self.overrode],
        }

    def render(self) -> str:
        where = f"level {self.level} from {self.source}" if self.level != MISSING and self.source else f"level {self.level}"
        return f"{self.job_file}: policy: {self.key}: {self.message} (rule {self.rule}, {where})"


@cache
def lowercases_values(cloud: str) -> bool:
    """Whether the cloud's value formatting folds case (GCP labels): read from the formatter itself."""
    return FORMATS[cloud].value("Aa") == "aa"


MATCH_SECONDS = 1.0  # a pattern's time on one value: a catastrophic pattern is a finding, never a hung run


@lru_cache(maxsize=1024)
def _compiled(pattern: str, ignore_case: bool) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)


def cloud_key(key: str, cloud: str) -> Optional[str]:
    """The policy key formatted for the cloud; None when the cloud cannot have it (a reserved prefix)."""
    try:
        return FORMATS[cloud].key(key)
    except (ReservedKey, EmptyKey):
        return None


def value_problem(rule: Rule, cloud: str, value: str) -> Optional[str]:
    """Why ``value`` (as formatted for ``cloud``) breaks the rule's pattern or values; None when it does not."""
    fmt = FORMATS[cloud]
    if rule.values is not None:
        allowed = [fmt.value(v) for v in rule.values]
        if value not in allowed:
            shown = ", ".join(repr(v) for v in dict.fromkeys(allowed))
            return f"value {value!r} is not one of {shown}"
    if rule.pattern is not None:
        try:
            found = _compiled(rule.pattern, lowercases_values(cloud)).search(value, timeout=MATCH_SECONDS)
        except TimeoutError:
            return f"pattern {rule.pattern} took more than {MATCH_SECONDS:g} s on value {value!r}: simplify the pattern (nested repeats?)"
        if not found:
            case = " (ignoring case: the cloud lowercases values)" if lowercases_values(cloud) else ""
            return f"value {value!r} does not match {rule.pattern}{case}"
    return None


def applicable_rules(policy: Policy, *, tenant: Optional[str], environment: Optional[str], provider: Optional[str],
                     runtime: Optional[str], severities: Iterable[str] = ("error", "warn")) -> list[tuple[int, Rule]]:
    """(number from 1, rule) of the rules that apply to that scope."""
    wanted = set(severities)
    return [(n, rule) for n, rule in enumerate(policy.rules, 1)
            if rule.severity in wanted and rule.applies(tenant=tenant, environment=environment, provider=provider, runtime=runtime)]


def check_tags(policy: Policy, *, tenant: Optional[str], environment: Optional[str], provider: Optional[str],
               runtime: Optional[str], cloud: str, tags: Mapping[str, str], subject: str,
               provenance: Optional[Mapping[str, Provenance]] = None, severities: Iterable[str] = ("error", "warn"),
               default_level: str = "resource") -> list[Finding]:
    """Findings for one tag map already formatted for ``cloud``.

    ``provenance`` (formatted key → :class:`~dativo_infra.tags.resolve.Provenance`) names the level
    each value came from; without it the level is ``default_level`` and the source ``subject``.
    """
    fmt = FORMATS[cloud]
    by_fold = {fmt.fold(k): k for k in tags}
    findings: list[Finding] = []
    for number, rule in applicable_rules(policy, tenant=tenant, environment=environment, provider=provider,
                                         runtime=runtime, severities=severities):
        key = cloud_key(rule.key, cloud)
        base: dict[str, Any] = dict(severity=rule.severity, job_file=subject, key=rule.key, cloud=cloud, cloud_key=key or "",
                    rule=number, rule_description=rule.describe())
        if key is None:
            if rule.required:
                findings.append(Finding(**base, message=f"required, but {cloud} {fmt.noun} cannot have this key (a reserved or empty name)", level=MISSING))
            continue
        actual = by_fold.get(fmt.fold(key))
        if actual is None:
            if rule.required:
                findings.append(Finding(**base, message=f"required tag is missing (looked for {key!r} in the {cloud} {fmt.noun})", level=MISSING))
            continue
        value = tags[actual]
        problem = value_problem(rule, cloud, value) if isinstance(value, str) else None
        if problem is None:
            continue
        prov = (provenance or {}).get(actual)
        if prov is not None:
            findings.append(Finding(**base, message=problem, level=prov.level, source=prov.source, value=value, overrode=tuple(prov.overrode)))
        else:
            findings.append(Finding(**base, message=problem, level=default_level, source=subject, value=value))
    return findings


def evaluate(policy: Policy, *, tenant: str, environment: str, provider: str, runtime: str, job_file: str,
             tag_set: TagSet, cloud: str) -> list[Finding]:
    """Every finding of ``policy`` on one job's TagSet for ``cloud``, errors and warnings, in rule order.

    ``tenant``, ``environment``, ``provider`` and ``runtime`` are the job's own (tenant_id, environment,
    infrastructure.provider, infrastructure.runtime.type); ``tag_set`` is its formatted
    :class:`~dativo_infra.tags.resolve.TagSet` for ``cloud`` (a Kubernetes job has two: its cloud's and ``kubernetes``).
    """
    return check_tags(policy, tenant=tenant, environment=environment, provider=provider, runtime=runtime, cloud=cloud,
                      tags=tag_set.tags, subject=job_file, provenance=tag_set.provenance)


def required_keys(policy: Policy, *, tenant: Optional[str], environment: Optional[str], provider: Optional[str], runtime: Optional[str],
                  cloud: str) -> list[str]:
    """The keys (formatted for ``cloud``) that the error rules applying to that job require: the Terraform
    modules' ``required_tag_keys``. Sorted, each once; keys the cloud cannot have are left out (evaluate reports them)."""
    keys = {cloud_key(rule.key, cloud) for _, rule in applicable_rules(
        policy, tenant=tenant, environment=environment, provider=provider, runtime=runtime, severities=("error",)) if rule.required}
    return sorted(k for k in keys if k is not None)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error (the CLI's exit 2)."""
    return any(f.severity == "error" for f in findings)
