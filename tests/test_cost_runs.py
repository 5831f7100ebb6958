"""Runs per month from a cron and its time zone, counted exactly across daylight-saving changes (dativo_infra.jobs.cron)."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from dativo_infra.jobs import cron


def brute_force(expression: str, zone: str, year: int, month: int, repeated: str) -> int:
    """Every UTC minute of the month (±1 day), kept when its local time matches: the slow, obvious count."""
    minute, hour, dom, mon, dow = expression.split()
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=timezone.utc) - timedelta(days=1)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc) + timedelta(days=1)
    seen: set[datetime] = set()
    count, at = 0, start
    while at < end:
        local = at.astimezone(tz)
        wall = local.replace(tzinfo=None)
        if (wall.year, wall.month) == (year, month) and local.minute in _values(minute, 0, 59) and local.hour in _values(hour, 0, 23) \
                and _day_ok(wall, dom, dow):
            if repeated == cron.REPEATED_TWICE or wall not in seen:
                count += 1
            seen.add(wall)
        at += timedelta(minutes=1)
    return count


def _values(text: str, low: int, high: int) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        lo, hi = (low, high) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        out.update(range(lo, hi + 1, int(step or 1)))
    return out


def _day_ok(wall: datetime, dom: str, dow: str) -> bool:
    weekday = (wall.weekday() + 1) % 7
    dom_ok = dom == "*" or wall.day in _values(dom, 1, 31)
    dow_ok = dow == "*" or weekday in {v % 7 for v in _values(dow, 0, 7)}
    return dom_ok or dow_ok if dom != "*" and dow != "*" else dom_ok and dow_ok


@pytest.mark.parametrize("expression, zone, year, month", [
    ("30 2 * * *", "Europe/Berlin", 2026, 3),  # 02:30 on 29 March does not exist
    ("30 2 * * *", "Europe/Berlin", 2026, 10),  # 02:30 on 25 October happens twice
    ("0,30 * * * *", "America/New_York", 2026, 3),
    ("0,30 * * * *", "America/New_York", 2026, 11),
    ("15 1 1-7 * 1", "America/New_York", 2026, 11),  # both day fields: either matches
    ("*/20 0-3 * * *", "Australia/Lord_Howe", 2026, 4),  # a 30-minute change
])
@pytest.mark.parametrize("repeated", [cron.REPEATED_TWICE, cron.REPEATED_ONCE])
def test_month_count_equals_minute_by_minute_count(expression, zone, year, month, repeated):
    assert cron.runs_in_month(expression, zone, year, month, repeated) == brute_force(expression, zone, year, month, repeated)


def test_dst_by_hand():
    # Berlin, daily 02:30: March 2026 has 31 days, 02:30 on the 29th is skipped; October's 25th has it twice
    assert cron.runs_in_month("30 2 * * *", "Europe/Berlin", 2026, 3) == 30
    assert cron.runs_in_month("30 2 * * *", "Europe/Berlin", 2026, 10, cron.REPEATED_TWICE) == 32
    assert cron.runs_in_month("30 2 * * *", "Europe/Berlin", 2026, 10, cron.REPEATED_ONCE) == 31
    # New York, hourly: 31 × 24 − 1 in March, 30 × 24 + 1 in November
    assert cron.runs_in_month("0 * * * *", "America/New_York", 2026, 3) == 743
    assert cron.runs_in_month("0 * * * *", "America/New_York", 2026, 11) == 721


def test_eventbridge_extensions():
    # May 2026: the 31st is a Sunday, so LW is Friday 29th; Fridays are 1, 8, 15, 22, 29
    assert cron.runs_in_month("0 2 LW * ?", "UTC", 2026, 5) == 1
    assert cron.runs_in_month("0 2 L * ?", "UTC", 2026, 2) == 1
    assert cron.runs_in_month("0 2 ? * FRI#5", "UTC", 2026, 5) == 1
    assert cron.runs_in_month("0 2 ? * FRI#5", "UTC", 2026, 6) == 0  # June 2026 has four Fridays
    assert cron.runs_in_month("0 2 ? * 5L", "UTC", 2026, 5) == 1
    # 15W in August 2026: the 15th is a Saturday → Friday 14th; 1W in August 2026: the 1st is a Saturday → Monday 3rd
    assert cron.matching_days(cron.parse("0 0 15W,1W * ?"), 8, 31, (calendar.weekday(2026, 8, 1) + 1) % 7) == (3, 14)


def test_average_month_is_the_400_year_cycle():
    days = sum(calendar.monthrange(y, m)[1] for y in range(2001, 2401) for m in range(1, 13))
    assert days == 146097
    assert cron.average_runs_per_month("0 12 * * *", "UTC") == Fraction(146097, 4800)
    # New York at 02:00: one run skipped each spring, none repeated (clocks go back from 02:00 to 01:00)
    assert cron.average_runs_per_month("0 2 * * *", "America/New_York") == Fraction(146097 - 400, 4800)


def test_invalid_cron_is_an_error():
    with pytest.raises(ValueError, match="minute"):
        cron.runs_in_month("61 * * * *", "UTC", 2026, 1)
