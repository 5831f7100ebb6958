"""Azure Container Apps prices from the Azure Retail Prices API (no credentials needed).

``GET https://prices.azure.com/api/retail/prices?currencyCode='USD'&$filter=serviceName eq 'Azure Container Apps' and ...``
The response (Microsoft Learn, "Azure Retail Prices overview") is ``{"BillingCurrency", "Items": [...],
"NextPageLink", "Count"}``; each item has ``armRegionName``, ``meterName``, ``type`` (``Consumption``),
``unitOfMeasure`` (``1 Second``, ``1 GiB Second``), ``retailPrice`` and ``tierMinimumUnits``.
Jobs are billed at the consumption plan's *active* rates: the meters ``Standard vCPU Active Usage`` and
``Standard Memory Active Usage``. An item priced 0 at tier 0 next to a priced tier is the monthly free
allowance (per subscription): it becomes a ``free_grants`` line.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Optional

from .http import Fetch, fail, get_json, redact
from .pricefile import PriceFile, RefreshedGrant, RefreshedPrice, exact_to_places

__all__ = ["METERS", "PRICES_URL", "parse_items", "prices_url", "refresh"]

PRICES_URL = "https://prices.azure.com/api/retail/prices"
SERVICE = "Azure Container Apps"
DEFAULT_REGIONS = ("eastus", "westeurope")  # the regions the shipped table prices
MAX_PAGES = 50  # 100 items a page; Container Apps in a handful of regions is a few pages

# meterName -> (item, unit written, {unitOfMeasure: seconds in one unit})
METERS: dict[str, tuple[str, str, dict[str, Decimal]]] = {
    "Standard vCPU Active Usage": ("container_apps.vcpu_second", "vCPU-second", {"1 Second": Decimal(1), "1 Hour": Decimal(3600)}),
    "Standard Memory Active Usage": ("container_apps.gib_second", "GiB-second", {"1 GiB Second": Decimal(1), "1 GiB Hour": Decimal(3600)}),
}
GRANT_UNITS = {"container_apps.vcpu_second": "vCPU-second per month", "container_apps.gib_second": "GiB-second per month"}
_REGION = re.compile(r"^[a-z]+[a-z0-9]*$")


def prices_url(regions: Iterable[str]) -> str:
    clauses = ["serviceName eq 'Azure Container Apps'", "priceType eq 'Consumption'"]
    names = list(regions)
    for region in names:
        if not _REGION.match(region):
            raise fail(PRICES_URL, f"{region!r} is not an Azure region name (armRegionName, e.g. eastus)")
    if names:
        clauses.append("(" + " or ".join(f"armRegionName eq '{r}'" for r in names) + ")")
    return PRICES_URL + "?" + urllib.parse.urlencode({"currencyCode": "'USD'", "$filter": " and ".join(clauses)}, quote_via=urllib.parse.quote)


def _next_page(link: Any, url: str) -> Optional[str]:
    """The API's NextPageLink, followed only back to the same API (never to another host)."""
    if not link:
        return None
    parsed = urllib.parse.urlsplit(str(link))
    if parsed.scheme != "https" or parsed.hostname != "prices.azure.com":
        raise fail(url, f"NextPageLink {link!r} leaves https://prices.azure.com: not followed")
    return str(link)


def parse_items(items: Iterable[Any], url: str, read_on: str, regions: Iterable[str] = ()) -> PriceFile:
    wanted = set(regions)
    source = redact(url)
    tiers: dict[tuple[str, str], list[tuple[Decimal, Decimal, str]]] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("meterName") not in METERS or item.get("type", "Consumption") != "Consumption":
            continue
        region = str(item.get("armRegionName", ""))
        if (wanted and region not in wanted) or item.get("currencyCode", "USD") != "USD":
            continue
        key, unit, per_unit = METERS[item["meterName"]]
        measure = str(item.get("unitOfMeasure", ""))
        if measure not in per_unit:
            raise fail(url, f"{item['meterName']} in {region}: unit {measure!r}, expected one of {sorted(per_unit)}")
        seconds = per_unit[measure]
        price = Decimal(str(item.get("retailPrice", item.get("unitPrice"))))
        tiers.setdefault((key, region), []).append((Decimal(str(item.get("tierMinimumUnits") or 0)) * seconds, price / seconds, unit))
    prices: list[RefreshedPrice] = []
    grants: dict[str, RefreshedGrant] = {}
    notes: list[str] = []
    for (key, region), rows in sorted(tiers.items()):
        paid = sorted((start, price, unit) for start, price, unit in rows if price > 0)
        if not paid:
            notes.append(f"{key} in {region}: every tier is priced 0")
            continue
        start, price, unit = paid[0]
        if len({p for _, p, _ in paid}) > 1:
            notes.append(f"{key} in {region}: tiers after the first priced one are not used")
        if not exact_to_places(price):
            notes.append(f"{key} in {region}: {price} per second is rounded to 12 decimals")
        prices.append(RefreshedPrice(key, SERVICE, region, unit, price, source, read_on))
        if start > 0:  # one allowance per subscription, valued at the first region read (regions sorted)
            grant = key.replace("container_apps.", "container_apps.free.")
            grants.setdefault(grant, RefreshedGrant(grant, SERVICE, start, GRANT_UNITS[key], key, region, "per subscription", source, read_on))
    for region in sorted(wanted):
        missing = [meter for meter, (key, _, _) in METERS.items() if (key, region) not in tiers]
        if missing:
            notes.append(f"{region}: no {' or '.join(repr(m) for m in missing)} meter in the response")
    return PriceFile("azure", prices, list(grants.values()), notes)


def refresh(fetch: Fetch, read_on: str, regions: Iterable[str] = ()) -> PriceFile:
    names = tuple(regions) or DEFAULT_REGIONS
    first = url = prices_url(names)
    items: list[Any] = []
    for _ in range(MAX_PAGES):
        page = get_json(fetch, url)
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise fail(url, "not an Azure Retail Prices response (expected {\"Items\": [...]})")
        items += page["Items"]
        next_url = _next_page(page.get("NextPageLink"), url)
        if next_url is None:
            return parse_items(items, first, read_on, names)
        url = next_url
    raise fail(first, f"more than {MAX_PAGES} pages: stopped")
