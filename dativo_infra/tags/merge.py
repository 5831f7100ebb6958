"""Tag precedence: one merged, canonical tag set per job, with provenance.

Levels, lowest first (a higher level wins on a shared key):

====================  =========================================================
``defaults``          dativo:tenant, dativo:environment, dativo:job, dativo:managed-by
``asset.compliance``  dativo:classification, dativo:regulations, dativo:retention-days
``asset.finops``      dativo:cost-center, dativo:project, dativo:business-tags
``job.finops``        the same keys, plus dativo:environment from finops.environment
``infrastructure``    ``infrastructure.tags``, keys verbatim
====================  =========================================================

An asset's own ``finops.environment`` is not used: one asset serves every
environment. Lists are joined with :data:`LIST_SEPARATOR`, a character valid in
every cloud's tag values (a comma is not, on many AWS services).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    from ..jobs.models import AssetDefinition

LIST_SEPARATOR = "_"
MANAGED_BY = "dativo-infra"

DEFAULTS, ASSET_COMPLIANCE, ASSET_FINOPS, JOB_FINOPS, INFRASTRUCTURE = (
    "defaults", "asset.compliance", "asset.finops", "job.finops", "infrastructure.tags")
# the job's identity: IAM conditions and cost reports read them, so only the defaults level sets them
IDENTITY_KEYS = ("dativo:tenant", "dativo:job")
LEVELS = (DEFAULTS, ASSET_COMPLIANCE, ASSET_FINOPS, JOB_FINOPS, INFRASTRUCTURE)  # lowest → highest


class TagCandidate(NamedTuple):
    """One tag as one level proposes it, before formatting."""

    key: str
    value: str
    level: str
    source: str


def _join(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def _finops_tags(finops, level: str, source: str, with_environment: bool) -> list[TagCandidate]:
    if finops is None:
        return []
    out = []
    if finops.cost_center:
        out.append(TagCandidate("dativo:cost-center", finops.cost_center, level, source))
    if finops.project:
        out.append(TagCandidate("dativo:project", finops.project, level, source))
    if finops.business_tags:
        out.append(TagCandidate("dativo:business-tags", _join(finops.business_tags), level, source))
    if with_environment and finops.environment:
        out.append(TagCandidate("dativo:environment", finops.environment, level, source))
    return out


def candidates(job) -> dict[str, list[TagCandidate]]:
    """Every level's tags for a job, lowest level first."""
    config, path = job.config, job.path
    levels: dict[str, list[TagCandidate]] = {level: [] for level in LEVELS}
    levels[DEFAULTS] = [
        TagCandidate("dativo:tenant", config.tenant_id, DEFAULTS, path),
        TagCandidate("dativo:environment", config.environment, DEFAULTS, path),
        TagCandidate("dativo:job", job.name, DEFAULTS, path),
        TagCandidate("dativo:managed-by", MANAGED_BY, DEFAULTS, path),
    ]
    asset: Optional[AssetDefinition] = job.asset
    if asset is not None:
        source = job.asset_file or path
        compliance = asset.compliance
        if compliance is not None:
            if compliance.classification:
                levels[ASSET_COMPLIANCE].append(TagCandidate("dativo:classification", _join(compliance.classification), ASSET_COMPLIANCE, source))
            if compliance.regulations:
                levels[ASSET_COMPLIANCE].append(TagCandidate("dativo:regulations", _join(compliance.regulations), ASSET_COMPLIANCE, source))
            if compliance.retention_days is not None:
                levels[ASSET_COMPLIANCE].append(TagCandidate("dativo:retention-days", str(compliance.retention_days), ASSET_COMPLIANCE, source))
        levels[ASSET_FINOPS] = _finops_tags(asset.finops, ASSET_FINOPS, source, with_environment=False)
    levels[JOB_FINOPS] = _finops_tags(config.finops, JOB_FINOPS, path, with_environment=True)
    if config.infrastructure is not None:
        levels[INFRASTRUCTURE] = [TagCandidate(k, v, INFRASTRUCTURE, path) for k, v in config.infrastructure.tags.items()]
    return levels


def tenant_candidates(tenant: str, environment: str, source: str) -> dict[str, list[TagCandidate]]:
    """Default tags for resources that belong to the tenant's stack but to no job."""
    return {DEFAULTS: [
        TagCandidate("dativo:tenant", tenant, DEFAULTS, source),
        TagCandidate("dativo:environment", environment, DEFAULTS, source),
        TagCandidate("dativo:managed-by", MANAGED_BY, DEFAULTS, source),
    ]}
