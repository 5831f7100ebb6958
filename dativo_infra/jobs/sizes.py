"""Compute sizes: every spelling the job files use → one canonical form.

Canonical CPU is millicores (``2000`` = 2 vCPU) and canonical memory is MiB.
Accepted spellings (docs/cloud-limits.md §2):

* CPU: cores (``"2"``, ``0.5``), Kubernetes millicores (``"500m"``) and ECS CPU
  units (a bare number of 128 or more: ``"2048"`` = 2 vCPU, since 1024 units
  are one vCPU and no runtime here offers 128 cores).
* Memory: a bare number is MiB (``"4096"``); ``Ki Mi Gi Ti`` are binary and
  ``k M G T`` decimal, as in Kubernetes quantities; ``MB``/``GB`` follow the
  AWS console's usage, where "4 GB" means 4096 MiB.

Validation per runtime uses the tables in docs/cloud-limits.md; an invalid size names the
valid choices nearest to it.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Union

Number = Union[int, float, str]

ECS_CPU_UNITS_THRESHOLD = 128


class SizeError(ValueError):
    """A size that cannot be parsed or is not valid for the runtime."""


_QUANTITY = re.compile(r"^\s*([+]?[0-9]+(?:\.[0-9]+)?|[+]?\.[0-9]+)\s*([A-Za-z]*)\s*$")

_MEMORY_FACTORS_BYTES = {
    "": None,  # bare number: MiB
    "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40,
    "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
    "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40,
}


MAX_DIGITS = 12  # no size has 10^12 cores or MiB; longer numbers would overflow decimal arithmetic


def _decimal(text: str, what: str, raw: Number) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SizeError(f"{what} {raw!r} is not a number") from None
    if value.adjusted() >= MAX_DIGITS:
        raise SizeError(f"{what} {text[:20]}{'…' if len(text) > 20 else ''} is too large")
    return value


def parse_cpu(raw: Number) -> int:
    """Return millicores."""
    if isinstance(raw, bool):
        raise SizeError(f"cpu {raw!r} is not a number; write cores (\"2\"), millicores (\"500m\") or ECS units (\"2048\")")
    match = _QUANTITY.match(str(raw))
    if not match or match.group(2) not in ("", "m"):
        raise SizeError(f"cpu {raw!r} is not a CPU size; write cores (\"2\", \"0.5\"), millicores (\"500m\") or ECS CPU units (\"2048\")")
    value = _decimal(match.group(1), "cpu", raw)
    if match.group(2) == "m":
        millis = value
    elif value >= ECS_CPU_UNITS_THRESHOLD:
        millis = value * 1000 / 1024
    else:
        millis = value * 1000
    if millis <= 0:
        raise SizeError(f"cpu {raw!r} must be greater than zero")
    if millis != millis.to_integral_value():
        if match.group(2) != "m" and value >= ECS_CPU_UNITS_THRESHOLD:
            raise SizeError(f"cpu {raw!r} is read as ECS CPU units (a bare number of {ECS_CPU_UNITS_THRESHOLD} or more; 1024 units = 1 vCPU) "
                            "and is not a whole number of millicores; use a multiple of 128 units, or write cores (\"1\") or millicores (\"1000m\")")
        raise SizeError(f"cpu {raw!r} is finer than a millicore; Kubernetes quantities allow at most 3 decimal places")
    return int(millis)


def parse_memory(raw: Number) -> int:
    """Return MiB."""
    if isinstance(raw, bool):
        raise SizeError(f"memory {raw!r} is not a number; write MiB (\"4096\") or a quantity (\"4Gi\")")
    match = _QUANTITY.match(str(raw))
    suffix = match.group(2).lower() if match else None
    if not match or suffix not in _MEMORY_FACTORS_BYTES or match.group(2) == "m":
        # lowercase "m" is milli in Kubernetes: 4096m bytes is never meant
        raise SizeError(f"memory {raw!r} is not a memory size; write MiB (\"4096\") or a quantity with Mi/Gi (\"4Gi\"), M/G or MB/GB")
    value = _decimal(match.group(1), "memory", raw)
    factor = _MEMORY_FACTORS_BYTES[suffix]
    mib = value if factor is None else value * factor / 2**20
    if mib <= 0:
        raise SizeError(f"memory {raw!r} must be greater than zero")
    if mib != mib.to_integral_value():
        hint = f" ({match.group(2)} is decimal, 10^n bytes; write Mi/Gi for binary units)" if suffix in ("k", "m", "g", "t") else ""
        raise SizeError(f"memory {raw!r} is {float(mib):.2f} MiB, not a whole number of MiB{hint}")
    return int(mib)


def format_cpu(millis: int) -> str:
    """Millicores → the shortest exact core spelling (``2``, ``0.5``, ``250m``).

    From 128 cores up a bare number would read back as ECS CPU units, so those
    sizes are written in millicores (``128000m``): ``parse_cpu`` always reads
    back what this writes.
    """
    if millis >= ECS_CPU_UNITS_THRESHOLD * 1000:
        return f"{millis}m"
    if millis % 1000 == 0:
        return str(millis // 1000)
    if millis % 250 == 0 or millis % 100 == 0:
        return str(Decimal(millis) / 1000).rstrip("0")
    return f"{millis}m"


def format_memory(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


# --- per-runtime tables (docs/cloud-limits.md §2) ------------------------------------

FARGATE: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}

CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)
CLOUD_RUN_MEMORY_MIB = (512, 32 * 1024)
# memory above this many MiB needs at least this many CPUs
CLOUD_RUN_MIN_CPU_FOR_MEMORY = ((24 * 1024, 8), (16 * 1024, 6), (8 * 1024, 4), (4 * 1024, 2))
CLOUD_RUN_MAX_TIMEOUT_SECONDS = 168 * 3600
CLOUD_RUN_MAX_RETRIES = 10

# Container Apps (Consumption): cpu in 0.25 steps up to 4, memory = 2 GiB per core
CONTAINER_APPS_PAIRS = [(m, m * 2048 // 1000) for m in range(250, 4000 + 1, 250)]


def _nearest(values, target, count=3):
    return sorted(values, key=lambda v: (abs(v - target), v))[:count]


def ecs_cpu_units(millis: int) -> int:
    return millis * 1024 // 1000


def check_for_runtime(runtime: str, millis: int, mib: int) -> list[tuple[str, str]]:
    """Return (field, message) problems for this size on this runtime."""
    if runtime == "ecs":
        units = millis * 1024 / 1000
        if units not in FARGATE:
            near = ", ".join(f"{u} ({format_cpu(u * 1000 // 1024)} vCPU)" for u in _nearest(FARGATE, units))
            return [("cpu", f"{format_cpu(millis)} vCPU ({units:g} CPU units) is not a Fargate task size; nearest valid CPU units: {near}")]
        allowed = FARGATE[int(units)]
        if mib not in allowed:
            near = ", ".join(str(m) for m in sorted(_nearest(allowed, mib)))
            return [("memory", f"{mib} MiB is not valid with {int(units)} Fargate CPU units (allowed {allowed[0]}–{allowed[-1]} MiB); nearest valid: {near}")]
        return []
    if runtime == "cloud_run":
        problems = []
        if millis % 1000 or millis // 1000 not in CLOUD_RUN_CPUS:
            near = ", ".join(str(c) for c in sorted(_nearest(CLOUD_RUN_CPUS, millis / 1000)))
            problems.append(("cpu", f"{format_cpu(millis)} vCPU is not a Cloud Run job CPU; use 1, 2, 4, 6 or 8 (nearest: {near})"))
        low, high = CLOUD_RUN_MEMORY_MIB
        if not low <= mib <= high:
            problems.append(("memory", f"{mib} MiB is outside Cloud Run's {low} MiB – {high // 1024} GiB"))
        else:
            for threshold, min_cpu in CLOUD_RUN_MIN_CPU_FOR_MEMORY:
                if mib > threshold and millis < min_cpu * 1000:
                    problems.append(("cpu", f"{format_memory(mib)} on Cloud Run needs at least {min_cpu} CPUs (more than {threshold // 1024} GiB); got {format_cpu(millis)}"))
                    break
        return problems
    if runtime == "container_apps":
        if (millis, mib) in CONTAINER_APPS_PAIRS:
            return []
        near = ", ".join(f"{format_cpu(c)}/{format_memory(m)}" for c, m in sorted(_nearest_pairs(millis, mib)))
        return [("cpu", f"{format_cpu(millis)} vCPU / {format_memory(mib)} is not a Container Apps CPU/memory pair "
                        f"(0.25 vCPU steps with 2 GiB per vCPU, up to 4/8Gi on Consumption); nearest: {near}")]
    return []  # kubernetes: any positive quantity, already checked by parsing


def _nearest_pairs(millis: int, mib: int):
    return sorted(CONTAINER_APPS_PAIRS, key=lambda p: (abs(p[0] - millis) / 250 + abs(p[1] - mib) / 512, p))[:3]
