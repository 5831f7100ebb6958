"""AWS Fargate prices from the AWS Price List Bulk API (no credentials needed).

One offer file per region: ``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonECS/current/<region>/index.json``.
Its shape (AWS Billing docs, "Reading the service price list file"): ``products`` maps a SKU to
``{"productFamily", "attributes": {"usagetype", "regionCode", ...}}``; ``terms.OnDemand`` maps the SKU to
offer terms whose ``priceDimensions`` carry ``{"unit", "pricePerUnit": {"USD": "0.0404800000"}}``.
Fargate's rates are told apart by ``usagetype``: ``<REGION PREFIX>-Fargate-vCPU-Hours:perCPU``,
``-Fargate-GB-Hours``, ``-Fargate-ARM-vCPU-Hours:perCPU``, ``-Fargate-ARM-GB-Hours`` and
``-Fargate-EphemeralStorage-GB-Hours``; Windows, Spot and ECS-on-EC2 SKUs are not read.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .http import Fetch, fail, get_json, redact
from .pricefile import PriceFile, RefreshedPrice

__all__ = ["OFFER_URL", "USAGE_TYPES", "offer_url", "parse_offer", "refresh"]

OFFER_URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonECS/current/{region}/index.json"
SERVICE = "AWS Fargate"
DEFAULT_REGIONS = ("us-east-1",)

# usagetype after the region prefix -> (item, unit)
USAGE_TYPES: dict[str, tuple[str, str]] = {
    "Fargate-vCPU-Hours:perCPU": ("fargate.vcpu_hour.x86_64", "vCPU-hour"),
    "Fargate-GB-Hours": ("fargate.gb_hour.x86_64", "GB-hour"),
    "Fargate-ARM-vCPU-Hours:perCPU": ("fargate.vcpu_hour.arm64", "vCPU-hour"),
    "Fargate-ARM-GB-Hours": ("fargate.gb_hour.arm64", "GB-hour"),
    "Fargate-EphemeralStorage-GB-Hours": ("fargate.ephemeral_storage_gb_hour", "GB-hour"),
}
_USAGE = re.compile(r"^(?:[A-Z]{2,4}\d?-)?(?P<kind>" + "|".join(re.escape(k) for k in USAGE_TYPES) + r")$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def offer_url(region: str) -> str:
    if not _REGION.match(region):
        raise fail(OFFER_URL.format(region=region), f"{region!r} is not an AWS region id (e.g. us-east-1)")
    return OFFER_URL.format(region=region)


def _on_demand_usd(terms: Any, sku: str, url: str) -> Decimal:
    """The one USD price of a SKU's on-demand terms; several different ones would be a guess, so that is an error."""
    prices = set()
    for term in (terms.get(sku) or {}).values() if isinstance(terms, dict) else ():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is not None:
                prices.add(Decimal(str(usd)))
    if len(prices) != 1:
        raise fail(url, f"SKU {sku}: expected one on-demand USD price, found {sorted(map(str, prices)) or 'none'}")
    return prices.pop()


def parse_offer(data: Any, region: str, url: str, read_on: str) -> list[RefreshedPrice]:
    """The Fargate rates in one region's AmazonECS offer file (already parsed JSON)."""
    if not isinstance(data, dict) or data.get("offerCode") != "AmazonECS" or not isinstance(data.get("products"), dict):
        raise fail(url, "not an AmazonECS offer file (expected offerCode AmazonECS and a products map)")
    terms = (data.get("terms") or {}).get("OnDemand") or {}
    found: dict[str, RefreshedPrice] = {}
    for sku, product in data["products"].items():
        attributes = product.get("attributes") or {} if isinstance(product, dict) else {}
        match = _USAGE.match(str(attributes.get("usagetype", "")))
        if not match or attributes.get("regionCode", region) != region:
            continue
        item, unit = USAGE_TYPES[match["kind"]]
        price = RefreshedPrice(item, SERVICE, region, unit, _on_demand_usd(terms, sku, url), redact(url), read_on)
        if item in found and found[item].price != price.price:
            raise fail(url, f"two different prices for {match['kind']} in {region}: {found[item].price} and {price.price}")
        found[item] = price
    return list(found.values())


def refresh(fetch: Fetch, read_on: str, regions: Iterable[str] = ()) -> PriceFile:
    prices: list[RefreshedPrice] = []
    notes: list[str] = []
    for region in tuple(regions) or DEFAULT_REGIONS:
        url = offer_url(region)
        found = parse_offer(get_json(fetch, url), region, url, read_on)
        missing = sorted({item for item, _ in USAGE_TYPES.values()} - {p.item for p in found})
        if missing:
            notes.append(f"{region}: the offer file has no price for {', '.join(missing)}")
        prices += found
    return PriceFile("aws", prices, notes=notes)
