"""One job's monthly cost from its flat variables (the dict ``terraform export`` writes), never from the Job model.

Arithmetic is exact: prices are decimals, every product and quotient (÷ 3600 s, ÷ 1024 MiB, ÷ 4800 months) is a
:class:`~fractions.Fraction`, and rounding happens only where a provider's billing rounds (each run's duration) and
once per job (its monthly cost, half-up to the cent). docs/cost.md lists every assumption.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional
from zoneinfo import ZoneInfo

from ..errors import ConfigError, Problem
from ..jobs import cron
from ..jobs.models import timezone_problem
from ..jobs.sizes import SizeError, parse_cpu, parse_memory
from .prices import Price, PriceBook, PriceError
from .settings import StackCost

__all__ = ["CENT", "JobEstimate", "Line", "estimate_job", "json_number", "money", "repeated_hour_policy"]

CENT = Decimal("0.01")
LINE_PLACES = Decimal("0.0000000001")  # lines are shown to 10 decimal places; their exact values add up to the job's cost
FARGATE_MINIMUM_SECONDS = 60
FARGATE_INCLUDED_STORAGE_GB = 20
# a finops size given per run → the priced items per cloud (storage: a month of what a month's runs write; logs: ingestion)
STORAGE_ITEMS = {"aws": "s3.gb_month", "gcp": "cloud_storage.gib_month", "azure": "blob_storage.gb_month"}
LOG_ITEMS = {"aws": "cloudwatch_logs.gb_ingested", "gcp": "cloud_logging.gib_ingested", "azure": "log_analytics.gb_ingested"}


def money(value: Fraction) -> Decimal:
    """Half-up to the cent, from the exact value."""
    return _decimal(value, CENT)


def _decimal(value: Fraction, places: Decimal) -> Decimal:
    """Half-up to ``places`` in integer arithmetic: exact at any size (Decimal division and quantize stop at 28 digits)."""
    exponent = places.as_tuple().exponent
    assert isinstance(exponent, int)
    scale = 10 ** -exponent
    scaled = value * scale
    units = math.floor(abs(scaled) + Fraction(1, 2))  # half-up, away from zero for a negative amount
    return Decimal((0 if scaled >= 0 else 1, tuple(int(d) for d in str(units)), exponent))


def json_number(value: Fraction | Decimal) -> Any:
    """A JSON number: an int when whole, else a float (shortest repr of the decimal)."""
    if isinstance(value, Fraction):
        value = _decimal(value, LINE_PLACES).normalize() if value.denominator != 1 else Decimal(value.numerator)
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Line:
    """One priced quantity of one job's month."""

    item: str
    quantity: Fraction
    unit: str
    price: Price

    @property
    def cost(self) -> Fraction:
        return self.quantity * Fraction(self.price.price)

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "quantity": json_number(self.quantity), "unit": self.unit, "unit_price": json_number(self.price.price),
                "cost": json_number(self.cost), "service": self.price.service, "price_region": self.price.region,
                "price_source": self.price.source, "price_read_on": self.price.read_on, "price_quality": self.price.quality}


@dataclass(frozen=True)
class JobEstimate:
    """A job's estimated month: its runs, the duration per run, the priced lines and the cost rounded to the cent."""

    file: str
    tenant: str
    environment: str
    job: str
    provider: str
    runtime: str
    region: str
    currency: str
    month: Optional[tuple[int, int]]
    schedule: str
    timezone: str
    runs_per_month: Fraction
    seconds_per_run: Fraction  # the duration used: expected runtime, else the maximum (an upper bound)
    billed_seconds_per_run: Fraction  # after the runtime's billing rule (minimum, rounding)
    duration_is_upper_bound: bool
    lines: tuple[Line, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    budget: Optional[Decimal] = None
    notes: tuple[str, ...] = ()

    @property
    def monthly_cost(self) -> Decimal:
        return money(sum((line.cost for line in self.lines), Fraction(0)))

    @property
    def service(self) -> str:
        return self.lines[0].price.service if self.lines else ""

    def charge_period(self) -> tuple[Optional[str], Optional[str]]:
        """FOCUS ChargePeriodStart/End: the month's bounds in the job's time zone, as UTC; none for an average month."""
        if self.month is None:
            return None, None
        year, month = self.month
        zone = ZoneInfo(self.timezone or "UTC")
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return tuple(t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for t in (start, end))  # type: ignore[return-value]

    @property
    def resource_id(self) -> str:
        return f"dativo:{self.tenant}/{self.environment}/{self.job}"

    def as_dict(self) -> dict[str, Any]:
        start, end = self.charge_period()
        return {
            "file": self.file, "tenant": self.tenant, "environment": self.environment, "job": self.job, "provider": self.provider,
            "runtime": self.runtime, "region": self.region, "runs_per_month": json_number(self.runs_per_month),
            "seconds_per_run": json_number(self.seconds_per_run), "billed_seconds_per_run": json_number(self.billed_seconds_per_run),
            "duration_is_upper_bound": self.duration_is_upper_bound, "monthly_cost": json_number(self.monthly_cost),
            "lines": [line.as_dict() for line in self.lines], "schedule": self.schedule, "timezone": self.timezone,
            "budget": json_number(self.budget) if self.budget is not None else None, "notes": list(self.notes),
            # FOCUS column names, so an estimate joins with a billing export
            "BilledCost": json_number(self.monthly_cost), "BillingCurrency": self.currency, "ChargePeriodStart": start,
            "ChargePeriodEnd": end, "ServiceName": self.service, "RegionId": self.region, "ResourceId": self.resource_id,
            "ResourceName": self.job, "Tags": dict(self.tags),
        }


def repeated_hour_policy(runtime: str) -> str:
    """How the runtime's scheduler treats a local time that occurs twice (docs/cost.md): EventBridge fires once."""
    return cron.REPEATED_ONCE if runtime == "ecs" else cron.REPEATED_TWICE


def _fraction(value: Any, what: str, *, zero: bool = False) -> Fraction:
    """A size or duration as an exact fraction: finite and positive (or zero, with ``zero``); a hand-edited tfvars file can hold anything."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"{what} {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not number.is_finite() or number < 0 or (number == 0 and not zero):
        raise ValueError(f"{what} {value!r} must be a finite number {'of 0 or more' if zero else 'greater than 0'}")
    return Fraction(number)


def _runs(variables: Mapping[str, Any], month: Optional[tuple[int, int]]) -> tuple[Fraction, list[str]]:
    expression = variables.get("schedule_cron") or ""
    if not expression:
        return Fraction(0), ["no schedule: the job runs only when started by hand, so no scheduled runs are estimated"]
    zone, runtime = variables.get("schedule_timezone") or "UTC", variables.get("runtime_type", "")
    wrong_zone = timezone_problem(zone) if isinstance(zone, str) else f"time zone {zone!r} is not a name"
    if wrong_zone:  # a folder ('America') or a 5,000-character name would be an OSError inside zoneinfo
        raise ValueError(wrong_zone)
    policy = repeated_hour_policy(runtime)
    if month is not None:
        return Fraction(cron.runs_in_month(expression, zone, month[0], month[1], policy)), []
    return cron.average_runs_per_month(expression, zone, policy), []


def _duration(variables: Mapping[str, Any]) -> tuple[Fraction, bool, list[str]]:
    """(seconds per run, whether that is an upper bound, notes): the expected runtime, never beyond the limit a run is stopped at."""
    limit = _fraction(variables["max_runtime_seconds"], "max_runtime_seconds")
    expected = (variables.get("finops_estimate") or {}).get("expected_runtime_seconds")
    if expected is None:
        return limit, True, []
    seconds = _fraction(expected, "finops.expected_runtime_seconds")
    if seconds > limit:
        expected = str(expected) if len(str(expected)) <= 24 else f"{str(expected)[:20]}…"
        return limit, False, [f"duration: finops.expected_runtime_seconds ({expected} s) is longer than max_runtime_seconds, where each run "
                              f"is stopped: {variables['max_runtime_seconds']} s is used"]
    return seconds, False, []


def _ceil(value: Fraction, step: Fraction) -> Fraction:
    return math.ceil(value / step) * step


class _Pricer:
    def __init__(self, prices: PriceBook, region: str):
        self.prices, self.region = prices, region

    def line(self, item: str, quantity: Fraction, unit: str, region: Optional[str] = None) -> Line:
        return Line(item, quantity, unit, self.prices.price(item, self.region if region is None else region))


def _compute_lines(variables: Mapping[str, Any], pricer: _Pricer, runs: Fraction, seconds: Fraction,
                   stack: StackCost) -> tuple[Fraction, list[Line], list[str]]:
    """(billed seconds per run, lines, notes) of the runtime's compute."""
    runtime, memory_mib = variables["runtime_type"], _fraction(variables["compute_memory"], "compute_memory")
    if runtime == "ecs":
        billed = max(Fraction(FARGATE_MINIMUM_SECONDS), _ceil(seconds, Fraction(1)))  # per second, one-minute minimum
        hours = runs * billed / 3600
        arch = "arm64" if str(variables.get("cpu_architecture") or "X86_64").upper() == "ARM64" else "x86_64"
        vcpu = _fraction(variables["cpu_units"], "cpu_units") / 1024
        lines = [pricer.line(f"fargate.vcpu_hour.{arch}", hours * vcpu, "vCPU-hour"),
                 pricer.line(f"fargate.gb_hour.{arch}", hours * memory_mib / 1024, "GB-hour")]
        storage = variables.get("ephemeral_storage_gib")
        storage_gb = _fraction(storage, "ephemeral_storage_gib") if storage is not None else Fraction(0)
        if storage_gb > FARGATE_INCLUDED_STORAGE_GB:
            lines.append(pricer.line("fargate.ephemeral_storage_gb_hour", hours * (storage_gb - FARGATE_INCLUDED_STORAGE_GB), "GB-hour"))
        return billed, lines, []
    if runtime == "cloud_run":
        billed = _ceil(seconds, Fraction(1, 10))  # rounded up to the next 100 ms
        used = runs * billed
        return billed, [pricer.line("cloud_run.vcpu_second", used * _fraction(variables["compute_cpu"], "compute_cpu"), "vCPU-second"),
                        pricer.line("cloud_run.gib_second", used * memory_mib / 1024, "GiB-second")], []
    if runtime == "container_apps":
        billed = _ceil(seconds, Fraction(1))  # per second
        used = runs * billed
        return billed, [pricer.line("container_apps.vcpu_second", used * _fraction(variables["cpu_cores"], "cpu_cores"), "vCPU-second"),
                        pricer.line("container_apps.gib_second", used * memory_mib / 1024, "GiB-second")], []
    if runtime == "kubernetes":
        hours = runs * seconds / 3600  # the requests' share of a node that is paid for anyway: no billing rounding
        vcpu = Fraction(parse_cpu(variables["request_cpu"]), 1000)
        gib = Fraction(parse_memory(variables["request_memory"]), 1024)
        node = stack.node_prices
        if node is not None:
            source = Price("kubernetes.vcpu_hour", "Kubernetes", "*", "vCPU-hour", node.vcpu_hour, node.source, "", "configured", node.source)
            memory = Price("kubernetes.gib_hour", "Kubernetes", "*", "GiB-hour", node.gib_hour, node.source, "", "configured", node.source)
            return seconds, [Line("kubernetes.vcpu_hour", hours * vcpu, "vCPU-hour", source),
                             Line("kubernetes.gib_hour", hours * gib, "GiB-hour", memory)], [f"node prices from {node.source}"]
        lines = [pricer.line("kubernetes.vcpu_hour", hours * vcpu, "vCPU-hour"), pricer.line("kubernetes.gib_hour", hours * gib, "GiB-hour")]
        return seconds, lines, [f"node prices from {lines[0].price.file} (dativo-infra:nodePrices in the stack config wins over it)"]
    raise ValueError(f"runtime {runtime!r} has no cost model")


def _size_lines(variables: Mapping[str, Any], pricer: _Pricer, runs: Fraction) -> tuple[list[Line], list[str]]:
    finops = variables.get("finops_estimate") or {}
    cloud = variables["cloud_provider"]
    lines, notes = [], []
    for key, items, unit, label in (("expected_storage_gb_per_run", STORAGE_ITEMS, "GB-month", "storage"),
                                    ("expected_log_gb_per_run", LOG_ITEMS, "GB", "logs")):
        size = finops.get(key)
        if size is not None:
            lines.append(pricer.line(items[cloud], runs * _fraction(size, f"finops.{key}", zero=True), unit))
            notes.append(f"{label}: an estimate from finops.{key}")
    return lines, notes


NO_SETTINGS = StackCost()
# No real job costs a trillion a month: beyond it a size or duration is a typo, and the JSON's numbers (floats) could no longer
# hold the cents exactly
MAX_AMOUNT = Fraction(10**12)


def _check_size(lines: list[Line], where: str) -> None:
    total = sum((line.cost for line in lines), Fraction(0))
    too_large = [f"{line.item} quantity" for line in lines if line.quantity >= MAX_AMOUNT] + (["monthly cost"] if total >= MAX_AMOUNT else [])
    if too_large:
        raise ConfigError([Problem(where, f"cannot estimate this job: its {', '.join(too_large)} would be 10^12 or more a month; check the compute "
                                          "sizes, max_runtime_seconds, finops.expected_runtime_seconds and the finops sizes per run")])


def estimate_job(variables: Mapping[str, Any], prices: PriceBook, *, month: Optional[tuple[int, int]] = None,
                 stack: StackCost = NO_SETTINGS, file: str = "") -> JobEstimate:
    """The job's month (``month`` = (year, month)) or average month (None). Raises ConfigError/PriceError, placed on ``file``."""
    where = file or f"job {variables.get('job_name', '?')}"
    try:
        runs, notes = _runs(variables, month)
        seconds, upper_bound, duration_notes = _duration(variables)
        pricer = _Pricer(prices, variables.get("region") or "")
        billed, lines, compute_notes = _compute_lines(variables, pricer, runs, seconds, stack) if runs else (seconds, [], [])
        size_lines, size_notes = _size_lines(variables, pricer, runs) if runs else ([], [])
    except PriceError as exc:
        hint = (" — or, for a Kubernetes job, set dativo-infra:nodePrices {vcpuHour, gibHour} in its stack config"
                if variables.get("runtime_type") == "kubernetes" else "")
        raise PriceError([Problem(where, p.message + hint, field="infrastructure.region") for p in exc.problems]) from None
    except (KeyError, ValueError, SizeError) as exc:
        detail = f"missing variable {exc}" if isinstance(exc, KeyError) else str(exc)  # (time zones are checked before ZoneInfo's KeyError)
        raise ConfigError([Problem(where, f"cannot estimate this job: {detail}")]) from None
    _check_size(lines + size_lines, where)
    notes += duration_notes
    if upper_bound:
        notes.append("duration: max_runtime_seconds, an upper bound (set finops.expected_runtime_seconds for an expected runtime)")
    budget = (variables.get("finops_estimate") or {}).get("monthly_budget")
    return JobEstimate(
        file=file, tenant=variables.get("tenant_id", ""), environment=variables.get("environment", ""), job=variables.get("job_name", ""),
        provider=variables.get("cloud_provider", ""), runtime=variables.get("runtime_type", ""), region=variables.get("region") or "",
        currency=prices.currency, month=month, schedule=variables.get("schedule_cron") or "",
        timezone=variables.get("schedule_timezone") or "UTC", runs_per_month=runs, seconds_per_run=seconds, billed_seconds_per_run=billed,
        duration_is_upper_bound=upper_bound, lines=tuple(lines + size_lines), tags=dict(variables.get("tags") or {}),
        budget=Decimal(str(budget)) if budget is not None else None, notes=tuple(notes + compute_notes + size_notes),
    )
