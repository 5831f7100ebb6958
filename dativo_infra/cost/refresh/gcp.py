"""Cloud Run jobs prices from the Cloud Billing Catalog API (needs an API key).

``GET https://cloudbilling.googleapis.com/v1/services/152E-C115-5142/skus?currencyCode=USD&key=API_KEY``
(152E-C115-5142 is Cloud Run). The response (Cloud Billing docs, "Get Google Cloud pricing
information", and the ``services.skus.list`` reference) is ``{"skus": [...], "nextPageToken": ...}``;
each SKU has a ``description``, ``category.usageType``, ``serviceRegions`` and ``pricingInfo[0].pricingExpression``
with a ``usageUnit`` and ``tieredRates`` of ``{"startUsageAmount", "unitPrice": {"currencyCode", "units", "nanos"}}``.
Cloud Run jobs are billed by the SKUs ``Jobs CPU in <region>`` and ``Jobs Memory in <region>``, one per
region, so the refreshed file carries per-region prices (``region: us-central1``), not tier names.
A first tier priced 0 is a free allowance: it becomes a ``free_grants`` line.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Optional

from .http import Fetch, fail, get_json, redact
from .pricefile import PriceFile, RefreshedGrant, RefreshedPrice, exact_to_places

__all__ = ["API_KEY_ENV", "SKUS_URL", "parse_skus", "refresh", "skus_url"]

SKUS_URL = "https://cloudbilling.googleapis.com/v1/services/152E-C115-5142/skus"
API_KEY_ENV = "DATIVO_GCP_BILLING_API_KEY"
SERVICE = "Cloud Run"
MAX_PAGES = 20  # Cloud Run has a few hundred SKUs at 5000 a page: more pages means the API is looping

_JOBS_SKU = re.compile(r"^Jobs (?P<kind>CPU|Memory) in (?P<region>[a-z]+(?:-[a-z]+)*\d+)$")
# kind -> (item, unit written, {usageUnit: seconds in one usage unit})
KINDS: dict[str, tuple[str, str, dict[str, Decimal]]] = {
    "CPU": ("cloud_run.vcpu_second", "vCPU-second", {"s": Decimal(1), "h": Decimal(3600)}),
    "Memory": ("cloud_run.gib_second", "GiB-second", {"GiBy.s": Decimal(1), "GiBy.h": Decimal(3600)}),
}
VALUED_AT = "us-central1"  # a tier-1 region: the free allowance is valued at its price when the refresh read it
GRANT_UNITS = {"CPU": "vCPU-second per month", "Memory": "GiB-second per month"}


def skus_url(api_key: str, page_token: Optional[str] = None) -> str:
    query = {"currencyCode": "USD", "pageSize": "5000", "key": api_key, **({"pageToken": page_token} if page_token else {})}
    return SKUS_URL + "?" + urllib.parse.urlencode(query)


def _money(price: Any, url: str, what: str) -> Decimal:
    if not isinstance(price, dict) or price.get("currencyCode", "USD") != "USD":
        raise fail(url, f"{what}: expected a USD unitPrice, got {price!r}")
    return Decimal(str(price.get("units") or 0)) + Decimal(int(price.get("nanos") or 0)) / Decimal(10**9)


def _rates(sku: dict, url: str) -> tuple[str, list[tuple[Decimal, Decimal]]]:
    """(usageUnit, [(startUsageAmount, unit price)]) of a SKU's current pricing."""
    info = sku.get("pricingInfo") or []
    expression = info[0].get("pricingExpression") if info and isinstance(info[0], dict) else None
    if not isinstance(expression, dict):
        raise fail(url, f"SKU {sku.get('skuId')}: no pricingInfo[0].pricingExpression")
    tiers = [(Decimal(str(t.get("startUsageAmount") or 0)), _money(t.get("unitPrice"), url, f"SKU {sku.get('skuId')}"))
             for t in expression.get("tieredRates") or []]
    return str(expression.get("usageUnit", "")), sorted(tiers)


def parse_skus(skus: Iterable[Any], url: str, read_on: str, regions: Iterable[str] = ()) -> PriceFile:
    """The Cloud Run jobs rates (every region, or only ``regions``) in the SKUs of one or more pages."""
    wanted = set(regions)
    source = redact(url)
    prices: dict[tuple[str, str], RefreshedPrice] = {}
    free: dict[str, dict[str, Decimal]] = {}  # kind -> region -> free quantity in the unit written
    notes: list[str] = []
    for sku in skus:
        match = _JOBS_SKU.match(str(sku.get("description", ""))) if isinstance(sku, dict) else None
        if not match or (sku.get("category") or {}).get("usageType", "OnDemand") != "OnDemand":
            continue
        region = match["region"]
        if wanted and region not in wanted:
            continue
        item, unit, per_second = KINDS[match["kind"]]
        usage_unit, tiers = _rates(sku, url)
        if usage_unit not in per_second:
            raise fail(url, f"SKU {sku.get('skuId')} ({sku['description']}): usage unit {usage_unit!r}, expected one of {sorted(per_second)}")
        paid = [(start, price) for start, price in tiers if price > 0]
        if not paid:
            raise fail(url, f"SKU {sku.get('skuId')} ({sku['description']}): no priced tier")
        start, price = paid[0]
        if len({p for _, p in paid}) > 1:
            notes.append(f"{sku['description']}: volume tiers after the first priced one are not used")
        rate = price / per_second[usage_unit]
        if not exact_to_places(rate):
            notes.append(f"{sku['description']}: {price} per {usage_unit} is rounded to 12 decimals per second")
        prices[(item, region)] = RefreshedPrice(item, SERVICE, region, unit, rate, source, read_on)
        if start > 0:  # a free first tier: one allowance per billing account, whichever region it is used in
            free.setdefault(match["kind"], {})[region] = start * per_second[usage_unit]
    grants = []
    for kind, by_region in sorted(free.items()):
        region = VALUED_AT if VALUED_AT in by_region else min(by_region)
        if len(set(by_region.values())) > 1:
            notes.append(f"Jobs {kind}: the free tier differs between regions ({sorted(set(map(str, by_region.values())))}); {region}'s is used")
        item = KINDS[kind][0]
        grants.append(RefreshedGrant(item.replace("cloud_run.", "cloud_run.free."), SERVICE, by_region[region], GRANT_UNITS[kind], item, region,
                                     "per billing account", source, read_on))
    for region in sorted(wanted | {r for _, r in prices}):
        missing = [f"'Jobs {kind} in {region}'" for kind, (item, _, _) in KINDS.items() if (item, region) not in prices]
        if missing:
            notes.append(f"{region}: no {' or '.join(missing)} SKU in the catalog")
    return PriceFile("gcp", list(prices.values()), grants, notes)


def refresh(fetch: Fetch, read_on: str, api_key: str, regions: Iterable[str] = ()) -> PriceFile:
    skus: list[Any] = []
    token: Optional[str] = None
    for _ in range(MAX_PAGES):
        url = skus_url(api_key, token)
        page = get_json(fetch, url)
        if not isinstance(page, dict) or not isinstance(page.get("skus", []), list):
            raise fail(url, "not a Cloud Billing Catalog skus.list response (expected {\"skus\": [...]})")
        skus += page.get("skus", [])
        token = page.get("nextPageToken") or None
        if token is None:
            return parse_skus(skus, SKUS_URL, read_on, regions)
    raise fail(SKUS_URL, f"more than {MAX_PAGES} pages of SKUs: stopped")
