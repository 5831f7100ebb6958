"""The tag policy file: pydantic models, and loading with the project's strict YAML reader.

A policy is a list of rules. Each rule names one canonical tag key (``dativo:cost-center``,
or any key a job sets in ``infrastructure.tags``), says whether it is required, what its value
must look like (a regular expression, a list of allowed values), where it applies (environments,
providers, runtimes, tenants: an absent list means all) and how hard it fails (``error`` or
``warn``). Problems are :class:`~dativo_infra.errors.ConfigError` with FILE:LINE:COL, as for job files.
"""
from __future__ import annotations

from typing import Literal, Optional

import regex  # the `re` syntax, plus a time limit per match (a pattern must not hang a run on a tenant's value)
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..errors import ConfigError, Problem
from ..jobs.models import Provider, RuntimeType
from ..jobs.problems import from_validation_error
from ..jobs.strict_yaml import Locator, decode, load_mapping

MAX_PATTERN = 1000  # characters of a rule's pattern

Severity = Literal["error", "warn"]
SEVERITIES = ("error", "warn")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    key: str = Field(min_length=1, description="The tag key as written in a job, before any cloud's formatting: "
                                               "a canonical key (dativo:cost-center, dativo:data-owner...) or an infrastructure.tags key")
    required: bool = Field(True, description="The key must be present; false: only its value is checked, when present")
    pattern: Optional[str] = Field(None, min_length=1, description="A Python regular expression the value must match (re.search: anchor it with ^...$). "
                                                                  "On clouds that lowercase values (GCP labels) it is matched ignoring case",
                                   json_schema_extra={"format": "regex"})
    values: Optional[list[str]] = Field(None, min_length=1, description="The allowed values, compared after the cloud's value formatting")
    environments: Optional[list[str]] = Field(None, min_length=1, description="The job environments (the job's environment field) the rule applies to; absent: all")
    providers: Optional[list[Provider]] = Field(None, min_length=1, description="The clouds (infrastructure.provider) the rule applies to; absent: all")
    runtimes: Optional[list[RuntimeType]] = Field(None, min_length=1, description="The runtimes (infrastructure.runtime.type) the rule applies to; absent: all")
    tenants: Optional[list[str]] = Field(None, min_length=1, description="The tenants (tenant_id) the rule applies to; absent: all")
    severity: Severity = Field("error", description="error: the run fails (exit 2); warn: a warning line, exit 0")
    description: Optional[str] = Field(None, description="Shown in findings; generated from the rule when absent")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        if len(value) > MAX_PATTERN:
            raise ValueError(f"pattern is {len(value)} characters long; at most {MAX_PATTERN}")
        try:
            regex.compile(value)
        except regex.error as exc:
            # types-regex declares regex.error without the msg and pos attributes the library sets on it
            where = f" at position {exc.pos}" if exc.pos is not None else ""  # type: ignore[attr-defined]
            raise ValueError(f"invalid regular expression {value!r}: {exc.msg}{where}") from None  # type: ignore[attr-defined]
        except (RecursionError, OverflowError, MemoryError) as exc:  # nesting or a repeat count no engine can hold
            raise ValueError(f"invalid regular expression (too deeply nested or too large: {type(exc).__name__})") from None
        return value

    @model_validator(mode="after")
    def _checks_something(self) -> Rule:
        if not self.required and self.pattern is None and self.values is None:
            raise ValueError("a rule with required: false checks nothing; give it a pattern or values (or make it required)")
        return self

    def applies(self, *, tenant: Optional[str], environment: Optional[str], provider: Optional[str], runtime: Optional[str]) -> bool:
        """Whether the rule applies to a job of that scope. An unknown (None) value matches only an absent list."""
        for allowed, value in ((self.tenants, tenant), (self.environments, environment),
                               (self.providers, provider), (self.runtimes, runtime)):
            if allowed is not None and value not in allowed:
                return False
        return True

    def describe(self) -> str:
        if self.description:
            return self.description
        parts = [f"{self.key} {'required' if self.required else 'checked when present'}"]
        if self.pattern is not None:
            parts.append(f"matching {self.pattern}")
        if self.values is not None:
            parts.append("one of " + ", ".join(self.values))
        for label, allowed in (("environments", self.environments), ("providers", self.providers),
                               ("runtimes", self.runtimes), ("tenants", self.tenants)):
            if allowed is not None:
                parts.append(f"{label} {', '.join(allowed)}")
        return "; ".join(parts)


class Policy(_Strict):
    description: Optional[str] = Field(None, description="What the policy is for")
    rules: list[Rule] = Field(description="The rules, each checked on its own; a finding names the rule by its number (from 1)")
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file the policy was loaded from ('' when built in code)."""
        return self._source


def parse_policy(path: str, text: str) -> Policy:
    """A policy from YAML text; ``path`` names the file in problems."""
    data = load_mapping(path, text, what="policy file")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(from_validation_error(path, exc, Locator(text), root=Policy)) from None
    policy._source = path
    return policy


def load_policy(path: str) -> Policy:
    """Read and validate a policy file. Raises :class:`~dativo_infra.errors.ConfigError`, one problem per field."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError([Problem(path, f"cannot read the policy file: {exc.strerror or exc}")]) from None
    return parse_policy(path, decode(path, raw))
