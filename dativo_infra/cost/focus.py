"""FOCUS (FinOps Open Cost and Usage Specification) rows: one per priced line, so estimates join with billing exports.

FOCUS names where one fits (BilledCost, BillingCurrency, ChargePeriodStart/End, ServiceName, RegionId, ResourceId,
ResourceName, Tags, PricingQuantity, PricingUnit, ListUnitPrice, ChargeCategory, ProviderName, SkuId); our own columns
carry the FOCUS prefix for custom columns, ``x_``. BilledCost of a row is the line's exact cost (10 decimal places);
x_JobMonthlyCost is the job's cost rounded to the cent, the figure the totals add up.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from decimal import Decimal

from .estimate import LINE_PLACES, JobEstimate, _decimal

__all__ = ["COLUMNS", "focus_csv", "focus_rows"]

PROVIDER_NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Microsoft Azure"}
COLUMNS = ("BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeDescription", "ProviderName",
           "ServiceName", "RegionId", "ResourceId", "ResourceName", "SkuId", "PricingQuantity", "PricingUnit", "ListUnitPrice", "Tags",
           "x_Tenant", "x_Environment", "x_Job", "x_File", "x_Runtime", "x_RunsPerMonth", "x_SecondsPerRun", "x_DurationIsUpperBound",
           "x_JobMonthlyCost", "x_PriceSource", "x_PriceReadOn")


def _plain(value: Decimal) -> str:
    """Without trailing zeros and never in exponent notation: 30, not 3E+1 (Decimal.normalize's str)."""
    return format(value.normalize(), "f")


def focus_rows(estimates: Iterable[JobEstimate]) -> list[dict[str, str]]:
    rows = []
    for e in estimates:
        start, end = e.charge_period()
        for line in e.lines:
            rows.append({
                "BilledCost": str(_decimal(line.cost, LINE_PLACES)), "BillingCurrency": e.currency, "ChargePeriodStart": start or "",
                "ChargePeriodEnd": end or "", "ChargeCategory": "Usage", "ChargeDescription": f"estimate: {line.item} for {e.job}",
                "ProviderName": PROVIDER_NAMES.get(e.provider, e.provider), "ServiceName": line.price.service, "RegionId": e.region,
                "ResourceId": e.resource_id, "ResourceName": e.job, "SkuId": line.item,
                "PricingQuantity": str(_decimal(line.quantity, LINE_PLACES)), "PricingUnit": line.unit, "ListUnitPrice": str(line.price.price),
                "Tags": json.dumps(dict(e.tags), sort_keys=True, ensure_ascii=False), "x_Tenant": e.tenant, "x_Environment": e.environment,
                "x_Job": e.job, "x_File": e.file, "x_Runtime": e.runtime, "x_RunsPerMonth": _plain(_decimal(e.runs_per_month, LINE_PLACES)),
                "x_SecondsPerRun": _plain(_decimal(e.seconds_per_run, LINE_PLACES)),
                "x_DurationIsUpperBound": "true" if e.duration_is_upper_bound else "false", "x_JobMonthlyCost": str(e.monthly_cost),
                "x_PriceSource": line.price.source, "x_PriceReadOn": line.price.read_on,
            })
    return rows


def focus_csv(estimates: Iterable[JobEstimate]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(focus_rows(estimates))
    return out.getvalue()
