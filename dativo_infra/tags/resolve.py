"""Merge the levels of a job's tags into one set formatted for one cloud.

Formatting happens per level before merging, so two keys that only become
equal in a cloud (GCP ``cost_center`` and ``cost-center``, Azure ``Owner`` and
``owner``) are resolved by precedence between levels, and are an error within
one level, where no precedence can decide.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import Problem, TagError
from .formats import FORMATS, EmptyKey, ReservedKey
from .merge import DEFAULTS, IDENTITY_KEYS, LEVELS, TagCandidate, candidates

# tags a component (and its Terraform module) adds to some resources of its own: they count toward the limit.
# AWS: the security group's Name, which the EC2 console shows.
COMPONENT_TAGS = {"aws": ("Name",)}


# NamedTuples, not dataclasses: a fleet creates one per tag per job, and tuples are built in C
class Override(NamedTuple):
    level: str
    source: str
    key: str
    value: str


class Provenance(NamedTuple):
    level: str
    source: str
    key: str  # the key as written, before formatting
    overrode: tuple[Override, ...] = ()

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "source": self.source,
            "key": self.key,
            "overrode": [{"level": o.level, "source": o.source, "key": o.key, "value": o.value} for o in self.overrode],
        }


@dataclass(frozen=True)
class TagSet:
    cloud: str
    tags: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)


def _problem(candidate: TagCandidate, message: str) -> Problem:
    field_name = "infrastructure.tags." + candidate.key if candidate.level == "infrastructure.tags" else candidate.level
    return Problem(candidate.source, message, field=field_name)


def format_levels(levels: dict[str, list[TagCandidate]], cloud: str) -> TagSet:
    fmt = FORMATS[cloud]
    final: dict[str, tuple[str, str, Provenance]] = {}  # folded key → (key, value, provenance)
    problems: list[Problem] = []
    # case-blind on every cloud: IAM matches tag keys in conditions ignoring case (aws:PrincipalTag/Dativo:Tenant is
    # dativo:tenant), and a cost report grouping Dativo:Tenant apart from dativo:tenant would mislead as much
    identity = {fmt.key(k).casefold(): k for k in IDENTITY_KEYS}
    for level in LEVELS:
        seen: dict[str, TagCandidate] = {}
        for cand in levels.get(level, ()):
            try:
                key = fmt.key(cand.key)
            except (ReservedKey, EmptyKey) as exc:
                problems.append(_problem(cand, str(exc)))
                continue
            value = fmt.value(cand.value)
            folded = fmt.fold(key)
            if level != DEFAULTS and key.casefold() in identity:
                problems.append(_problem(cand, f"{cand.key!r} is {identity[key.casefold()]!r} in {cloud} {fmt.noun} (in any case), which always comes from the job "
                                               "itself (tenant_id, the file name): access conditions and cost reports rely on it; "
                                               "no level can set it"))
                continue
            if folded in seen:
                other = seen[folded]
                problems.append(_problem(cand, f"keys {other.key!r} and {cand.key!r} of the same level both become {key!r} in {cloud} {fmt.noun}; rename one"))
                continue
            seen[folded] = cand
            overrode: tuple[Override, ...] = ()
            if folded in final:
                old_key, old_value, old = final[folded]
                overrode = old.overrode + (Override(old.level, old.source, old.key, old_value),)
            final[folded] = (key, value, Provenance(level, cand.source, cand.key, overrode))
    if problems:
        raise TagError(problems)
    added = [k for k in COMPONENT_TAGS.get(cloud, ()) if fmt.fold(k) not in final]
    if fmt.limit is not None and len(final) + len(added) > fmt.limit:
        by_level: dict[str, int] = {}
        for _, _, prov in final.values():
            by_level[prov.level] = by_level.get(prov.level, 0) + 1
        contributed = ", ".join(f"{level} {by_level[level]}" for level in LEVELS if level in by_level)
        source = next(iter(final.values()))[2].source
        extra = f", plus {', '.join(added)} that dativo-infra adds to some resources" if added else ""
        raise TagError([Problem(source, f"{len(final) + len(added)} {fmt.noun} after merging, more than {cloud}'s limit of {fmt.limit} "
                                        f"per resource (from {contributed}{extra})", field="infrastructure.tags")])
    ordered = sorted(final.values(), key=lambda item: item[0])
    return TagSet(cloud, {k: v for k, v, _ in ordered}, {k: p for k, _, p in ordered})


def tag_set(job, cloud: str) -> TagSet:
    """The job's final tags for ``cloud`` (aws, gcp, azure or kubernetes)."""
    return format_levels(candidates(job), cloud)
