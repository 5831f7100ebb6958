"""Price tables are data: ``dativo_infra/cost/prices/<cloud>.yaml``, read by one loader into a :class:`PriceBook`.

Every price is a string parsed as :class:`~decimal.Decimal` (never a float) and carries where it came from: the
source URL, the region, the date it was read and its quality. ``--prices FILE`` overlays a file of the same format
(schemas/prices.schema.json): its entries replace the shipped ones with the same item and region, and add new ones.
A price the book does not hold is a :class:`PriceError` naming the item, the region and ``--prices``; never a zero.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError, Problem
from ..jobs.problems import from_validation_error
from ..jobs.strict_yaml import Locator, decode, load_mapping

__all__ = ["ANY_REGION", "CLOUDS", "FreeGrant", "Price", "PriceBook", "PriceError", "load_prices", "parse_price_file"]

PRICES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prices")
CLOUDS = ("aws", "gcp", "azure", "kubernetes")
ANY_REGION = "*"
PRICE_FILE_LIMIT = 1 << 20  # a price table is a few hundred lines
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,12})?$")
_ITEM = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class PriceError(ConfigError):
    """The price book has no price for what a job needs (or a price file is invalid)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _quoted(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"write the amount as a string in quotes (\"{value}\"): a YAML number is read as a binary float, "
                         "which cannot hold most decimal prices exactly")
    return value


class _PriceEntry(_Strict):
    item: str = Field(pattern=_ITEM.pattern, description="The estimator's key: <service>.<unit>[.<variant>], e.g. fargate.vcpu_hour.x86_64")
    service: str = Field(min_length=1, description="FOCUS ServiceName, e.g. AWS Fargate")
    region: str = Field(min_length=1, description="A region id, a GCP tier name (tier1, tier2) or * for any region")
    unit: str = Field(min_length=1, description="What one unit is, e.g. vCPU-hour, GiB-second")
    price: str = Field(pattern=_AMOUNT.pattern, description="The price of one unit in the file's currency, as a string (parsed as a decimal, never a float)")
    source: str = Field(min_length=1, description="Where the price was read (URL)")
    read_on: str = Field(pattern=_DATE.pattern, description="The date the price was read (YYYY-MM-DD)")
    quality: Literal["primary", "secondary", "derived", "configured"] = Field(
        description="primary: the provider's own page or API; secondary: a third party; derived: computed from other sourced figures "
                    "(see note); configured: an operator's own figure")
    note: Optional[str] = Field(None, description="How the price was obtained, when it is not read directly")

    _price_quoted = field_validator("price", mode="before")(_quoted)


class _GrantEntry(_Strict):
    item: str = Field(pattern=_ITEM.pattern, description="e.g. cloud_run.free.vcpu_second")
    service: str = Field(min_length=1)
    quantity: str = Field(pattern=_AMOUNT.pattern, description="The free quantity per month, as a string")
    unit: str = Field(min_length=1, description="e.g. vCPU-second per month per billing account")
    applies_to: str = Field(min_length=1, description="The priced item the grant covers, e.g. cloud_run.vcpu_second")
    valued_at: str = Field(min_length=1, description="The region or tier whose price values the grant (Cloud Run: tier1)")
    scope: str = Field(min_length=1, description="Who gets it once a month: billing account, subscription")
    source: str = Field(min_length=1)
    read_on: str = Field(pattern=_DATE.pattern)
    note: Optional[str] = None

    _quantity_quoted = field_validator("quantity", mode="before")(_quoted)


class PriceFile(_Strict):
    """One price table file (schemas/prices.schema.json is generated from this model)."""

    cloud: Literal["aws", "gcp", "azure", "kubernetes"] = Field(description="Which cloud's prices the file holds")
    currency: Literal["USD"] = Field(description="ISO 4217 currency of every price in the file (the shipped tables are USD)")
    prices: list[_PriceEntry] = Field(default_factory=list)
    free_grants: list[_GrantEntry] = Field(default_factory=list)
    region_tiers: dict[str, str] = Field(default_factory=dict, description="GCP: region → tier name (tier1, tier2)")


@dataclass(frozen=True)
class Price:
    item: str
    service: str
    region: str
    unit: str
    price: Decimal
    source: str
    read_on: str
    quality: str
    file: str
    note: Optional[str] = None

    def as_dict(self) -> dict:
        return {"item": self.item, "service": self.service, "region": self.region, "unit": self.unit, "price": str(self.price),
                "source": self.source, "read_on": self.read_on, "quality": self.quality, "file": self.file, "note": self.note}


@dataclass(frozen=True)
class FreeGrant:
    item: str
    service: str
    quantity: Decimal
    unit: str
    applies_to: str
    valued_at: str
    scope: str
    source: str
    read_on: str
    cloud: str


@dataclass
class PriceBook:
    """Every price the estimator may use, keyed by (item, region); the files they came from, in overlay order."""

    currency: str = "USD"
    prices: dict[tuple[str, str], Price] = field(default_factory=dict)
    free_grants: dict[str, FreeGrant] = field(default_factory=dict)
    region_tiers: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def price(self, item: str, region: str) -> Price:
        """The price of ``item`` in ``region``: the region's own, else its tier's (GCP), else any region's (``*``)."""
        for key in (region, self.region_tiers.get(region), ANY_REGION):
            if key is not None and (item, key) in self.prices:
                return self.prices[(item, key)]
        priced = sorted(r for i, r in self.prices if i == item)
        where = f"region {region!r}" if region else "a job with no region"
        tier = f" (tier {self.region_tiers[region]})" if region in self.region_tiers else ""
        raise PriceError([Problem("prices", f"no price for {item} in {where}{tier}: the price tables hold it for "
                                            f"{', '.join(priced) or 'no region'}; give one with --prices FILE (docs/cost.md)",
                                  field="region")])

    def add(self, parsed: PriceFile, path: str) -> None:
        """Overlay one parsed file: same (item, region) replaced, new ones added; ``path`` names it in the output."""
        if parsed.currency != self.currency:
            raise PriceError([Problem(path, f"currency {parsed.currency} differs from {self.currency}: all prices must be in one currency",
                                      field="currency")])
        for entry in parsed.prices:
            self.prices[(entry.item, entry.region)] = Price(entry.item, entry.service, entry.region, entry.unit, Decimal(entry.price),
                                                            entry.source, entry.read_on, entry.quality, path, entry.note)
        for grant in parsed.free_grants:
            self.free_grants[grant.item] = FreeGrant(grant.item, grant.service, Decimal(grant.quantity), grant.unit, grant.applies_to,
                                                     grant.valued_at, grant.scope, grant.source, grant.read_on, parsed.cloud)
        self.region_tiers.update(parsed.region_tiers)
        self.files.append(path)


def parse_price_file(path: str, text: str) -> PriceFile:
    data = load_mapping(path, text, what="price file")
    try:
        return PriceFile.model_validate(data)
    except ValidationError as exc:
        problems = from_validation_error(path, exc, Locator(text), root=PriceFile)
        raise PriceError([_readable(p) for p in problems]) from None


_PATTERN_HELP = {"price": "an amount as a decimal string: no sign, no exponent, up to 9 digits before the point and 12 after (e.g. \"0.04048\")",
                 "quantity": "an amount as a decimal string: no sign, no exponent, up to 9 digits before the point and 12 after (e.g. \"240000\")",
                 "read_on": "a date YYYY-MM-DD (e.g. \"2026-12-04\")",
                 "item": "a dotted lowercase key such as fargate.vcpu_hour.x86_64"}


def _readable(problem: Problem) -> Problem:
    """pydantic's "String should match pattern '^...$'" said in words (a negative, NaN or 1e3 price is the usual cause)."""
    name = (problem.field or "").rsplit(".", 1)[-1]
    if name in _PATTERN_HELP and problem.message.startswith("String should match pattern"):
        return dataclasses.replace(problem, message=f"must be {_PATTERN_HELP[name]}")
    return problem


def _read(path: str) -> PriceFile:
    try:
        if not os.path.isfile(path):
            raise PriceError([Problem(path, "price file not found (or not a regular file)")])
        with open(path, "rb") as handle:
            raw = handle.read(PRICE_FILE_LIMIT + 1)
    except OSError as exc:
        raise PriceError([Problem(path, f"cannot read the price file: {exc.strerror or exc}")]) from None
    if len(raw) > PRICE_FILE_LIMIT:
        raise PriceError([Problem(path, f"larger than {PRICE_FILE_LIMIT} bytes: not a price file")])
    try:
        return parse_price_file(path, decode(path, raw))
    except PriceError:
        raise
    except ConfigError as exc:  # YAML syntax, encoding: the same problems, as a price error
        raise PriceError(exc.problems) from None


def shipped_files() -> list[str]:
    return [os.path.join(PRICES_DIR, f"{cloud}.yaml") for cloud in CLOUDS]


def _display(path: str) -> str:
    """A shipped table by its place in the repository; any other file as given."""
    return f"dativo_infra/cost/prices/{os.path.basename(path)}" if os.path.dirname(os.path.abspath(path)) == PRICES_DIR else path


def load_prices(override: Optional[str] = None, *, files: Optional[Iterable[str]] = None) -> PriceBook:
    """The shipped tables (or ``files``), then ``override`` (``--prices FILE``) on top."""
    book = PriceBook()
    for path in [*(files if files is not None else shipped_files()), *([override] if override else [])]:
        book.add(_read(path), _display(path))
    return book


