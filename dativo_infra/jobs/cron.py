"""5-field cron expressions: each field's values and ranges, so a typo is an error, not a schedule that never runs.

Standard fields (minute hour day-of-month month day-of-week) with lists, ranges,
steps and three-letter names are accepted on every runtime. EventBridge
Scheduler (ECS) also knows ``L``, ``W`` and ``#``; the other runtimes' cron
dialects (Cloud Scheduler, Kubernetes, Container Apps) do not, so
:func:`extensions` finds them for the rules to reject there. ``?`` means "any"
in day-of-month and day-of-week everywhere.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Optional


class Field(NamedTuple):
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] is the value low + i


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
FIELDS = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day-of-month", 1, 31),
    Field("month", 1, 12, MONTHS),
    Field("day-of-week", 0, 7, DAYS),  # 0 and 7 are both Sunday
)
_RANGE = re.compile(r"^(?P<start>[0-9A-Za-z]+)(?:-(?P<end>[0-9A-Za-z]+))?(?:/(?P<step>[0-9]+))?$")
_STEP = re.compile(r"^\*(?:/(?P<step>[0-9]+))?$")
# EventBridge extensions: last day (L), nearest weekday (15W, LW), last weekday of the month (5L), nth weekday (FRI#2)
_DOM_EXTENSION = re.compile(r"^(L|LW|[0-9]{1,2}W)$")
_DOW_EXTENSION = re.compile(r"^([0-9A-Za-z]+)(L|#[1-5])$")


def _value(text: str, field: Field) -> Optional[int]:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return field.low + field.names.index(upper) if upper in field.names else None


def problems(cron: str) -> Iterator[str]:
    """What is wrong with each field of a 5-field cron; nothing for a valid one.

    A cron whose every field is valid can still never fire (``0 0 30 2 *``): that is a problem too.
    """
    wrong = False
    for text, field in zip(cron.split(), FIELDS, strict=False):
        for item in text.split(","):
            message = _item_problem(item, field)
            if message:
                wrong = True
                yield f"{field.name} {text!r}: {message}"
                break
    if not wrong and len(cron.split()) == 5:
        never = _never_fires(cron)
        if never:
            yield never


# the most days each month can have (February: 29, in leap years)
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _never_fires(cron: str) -> Optional[str]:
    """Why a valid cron never fires, or None: only day-of-month days that no chosen month has.

    When day-of-week is restricted too, cron fires on either (it ORs the two fields), so some day always matches.
    """
    _, _, dom, month, dow = cron.split()
    if dow not in ("*", "?") or dom in ("*", "?"):
        return None
    days, months = _expand(dom, FIELDS[2]), _expand(month, FIELDS[3])
    if days is None or months is None:  # L or W: the last day or a weekday of the month, which always exists
        return None
    if any(day <= _MONTH_DAYS[m - 1] for m in months for day in days):
        return None
    return (f"day-of-month {dom!r} never falls in month {month!r} (no such date: {', '.join(MONTHS[m - 1].title() for m in sorted(months))} "
            f"{'have' if len(months) > 1 else 'has'} at most {max(_MONTH_DAYS[m - 1] for m in months)} days), so this schedule never runs")


def _expand(text: str, field: Field) -> Optional[set[int]]:
    """The values a valid field selects; None when it holds an extension (L, W, #)."""
    values: set[int] = set()
    for item in text.split(","):
        if item in ("*", "?"):
            values.update(range(field.low, field.high + 1))
            continue
        step = _STEP.match(item)
        if step:
            values.update(range(field.low, field.high + 1, int(step.group("step") or 1)))
            continue
        found = _RANGE.match(item)
        if not found:
            return None
        start = _value(found.group("start"), field)
        end = _value(found.group("end"), field) if found.group("end") else (field.high if found.group("step") else start)
        if start is None or end is None:
            return None
        values.update(range(start, end + 1, int(found.group("step") or 1)))
    return values


def _item_problem(item: str, field: Field) -> Optional[str]:
    allowed = f"{field.low}–{field.high}" + (f" or {field.names[0]}–{field.names[-1]}" if field.names else "")
    if item == "?":
        return None if field.name in ("day-of-month", "day-of-week") else "'?' is only for day-of-month or day-of-week"
    if field.name == "day-of-month" and _DOM_EXTENSION.match(item):
        return None if not item[:-1].isdigit() or 1 <= int(item[:-1]) <= 31 else f"{item!r}: the day must be 1–31"
    if field.name == "day-of-week" and (found := _DOW_EXTENSION.match(item)):
        return None if _in_range(found.group(1), field) else f"{found.group(1)!r} is not a day of the week ({allowed})"
    step = _STEP.match(item)
    if step:
        return "a step must be 1 or more" if step.group("step") is not None and int(step.group("step")) == 0 else None
    found = _RANGE.match(item)
    if not found:
        return f"{item!r} is not a value, a range (a-b) or a step (*/n, a-b/n); allowed: {allowed}"
    start, end, step_text = found.group("start"), found.group("end"), found.group("step")
    for part in filter(None, (start, end)):
        if _value(part, field) is None:
            return f"{part!r} is not a number{' or a three-letter name' if field.names else ''}; allowed: {allowed}"
        if not _in_range(part, field):
            return f"{part!r} is out of range; allowed: {allowed}"
    if end is not None and _value(start, field) > _value(end, field):  # type: ignore[operator]
        return f"the range {start}-{end} runs backwards; write it from low to high"
    if step_text is not None and int(step_text) == 0:
        return "a step must be 1 or more"
    return None


def _in_range(text: str, field: Field) -> bool:
    value = _value(text, field)
    return value is not None and field.low <= value <= field.high


def extensions(cron: str) -> list[str]:
    """The EventBridge-only items (``L``, ``W``, ``#``) of a cron, which other cron dialects reject."""
    _, _, dom, _, dow = cron.split()
    return ([item for item in dom.split(",") if _DOM_EXTENSION.match(item)]
            + [item for item in dow.split(",") if _DOW_EXTENSION.match(item)])


# -- counting runs: how many instants a valid cron fires in a month ------------------------------------------------
#
# Arithmetic, never minute by minute: a month's runs are (matching days) × (times per day), corrected on the days
# where the zone's UTC offset changes. A day's match depends only on the month's length and the weekday of its 1st,
# so the 400-year Gregorian cycle (2001-2400, 4800 months) is 12 × 7 × 2 month shapes at most, counted once each.
# docs/cost.md explains the semantics; EventBridge's L, W and # are supported.

import bisect  # noqa: E402 - the counting half of the module
import calendar  # noqa: E402
import functools  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402
from fractions import Fraction  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

REPEATED_TWICE = "twice"  # a local time that occurs twice (clocks go back) fires at both instants
REPEATED_ONCE = "once"  # ... fires once (EventBridge Scheduler)
CYCLE_START, CYCLE_YEARS = 2001, 400  # one whole Gregorian cycle: the calendar repeats every 400 years
_WEEK = 7 * 86400


class Schedule(NamedTuple):
    """A parsed, valid 5-field cron: the times of day it fires, and its day fields as written."""

    times: tuple[int, ...]  # minutes after local midnight, sorted
    months: frozenset[int]
    dom: tuple[str, ...]  # day-of-month items, or () when unrestricted (* or ?)
    dow: tuple[str, ...]  # day-of-week items, or () when unrestricted


def _restricted(text: str) -> tuple[str, ...]:
    return () if text in ("*", "?", "*/1") else tuple(text.split(","))


@functools.lru_cache(maxsize=4096)
def parse(cron: str) -> Schedule:
    """A valid cron's schedule. Raises ValueError (with every problem) for an invalid one."""
    found = list(problems(cron))
    if len(cron.split()) != 5:
        found.insert(0, f"{cron!r} is not a 5-field cron (minute hour day-of-month month day-of-week)")
    if found:
        raise ValueError("; ".join(found))
    minute, hour, dom, month, dow = cron.split()
    minutes, hours, months = (_expand(text, field) for text, field in ((minute, FIELDS[0]), (hour, FIELDS[1]), (month, FIELDS[3])))
    assert minutes is not None and hours is not None and months is not None  # no extensions in these fields
    return Schedule(tuple(sorted(h * 60 + m for h in hours for m in minutes)), frozenset(months), _restricted(dom), _restricted(dow))


def _weekday(day_of_month: int, first_weekday: int) -> int:
    """Cron's weekday (0 = Sunday) of a day, from the cron weekday of the month's 1st."""
    return (first_weekday + day_of_month - 1) % 7


def _nearest_weekday(day: int, length: int, first_weekday: int) -> int:
    """EventBridge's ``W``: the weekday (Mon-Fri) nearest to ``day`` within the month."""
    day = min(day, length)
    weekday = _weekday(day, first_weekday)
    if weekday == 6:  # Saturday: Friday before, or Monday after when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 0:  # Sunday: Monday after, or Friday before when it is the month's last day
        return day + 1 if day < length else day - 2
    return day


def _dom_days(items: tuple[str, ...], length: int, first_weekday: int) -> set[int]:
    days: set[int] = set()
    for item in items:
        if item == "L":
            days.add(length)
        elif item == "LW":
            days.add(_nearest_weekday(length, length, first_weekday))
        elif item.endswith("W"):
            days.add(_nearest_weekday(int(item[:-1]), length, first_weekday))
        else:
            days.update(d for d in (_expand(item, FIELDS[2]) or ()) if d <= length)
    return days


def _dow_days(items: tuple[str, ...], length: int, first_weekday: int) -> set[int]:
    days: set[int] = set()
    for item in items:
        found = _DOW_EXTENSION.match(item)
        if found:
            value = _value(found.group(1), FIELDS[4])
            assert value is not None
            matching = [d for d in range(1, length + 1) if _weekday(d, first_weekday) == value % 7]
            suffix = found.group(2)
            days.add(matching[-1] if suffix == "L" else 0 if int(suffix[1:]) > len(matching) else matching[int(suffix[1:]) - 1])
        else:
            weekdays = {v % 7 for v in (_expand(item, FIELDS[4]) or ())}
            days.update(d for d in range(1, length + 1) if _weekday(d, first_weekday) in weekdays)
    days.discard(0)  # FRI#5 in a month with four Fridays
    return days


_EVERY_DAY = {length: tuple(range(1, length + 1)) for length in (28, 29, 30, 31)}


@functools.lru_cache(maxsize=65536)
def matching_days(schedule: Schedule, month: int, length: int, first_weekday: int) -> tuple[int, ...]:
    """The days of a month (its number, length, cron weekday of its 1st) on which the schedule fires.

    As Vixie cron and Kubernetes: when both day fields are restricted, a day matching either fires.
    """
    if month not in schedule.months:
        return ()
    if not schedule.dom and not schedule.dow:
        return _EVERY_DAY[length]
    every = set(range(1, length + 1))
    dom = _dom_days(schedule.dom, length, first_weekday) if schedule.dom else None
    dow = _dow_days(schedule.dow, length, first_weekday) if schedule.dow else None
    if dom is not None and dow is not None:
        days = dom | dow
    else:
        days = dom if dom is not None else dow if dow is not None else every
    return tuple(sorted(days))


def _shape(year: int, month: int) -> tuple[int, int, int]:
    first_weekday = (calendar.weekday(year, month, 1) + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
    return month, calendar.monthrange(year, month)[1], first_weekday


@functools.lru_cache(maxsize=1)
def _cycle_shapes() -> dict[tuple[int, int, int], int]:
    """How often each month shape occurs in the 400-year cycle."""
    counts: dict[tuple[int, int, int], int] = {}
    for year in range(CYCLE_START, CYCLE_START + CYCLE_YEARS):
        for month in range(1, 13):
            shape = _shape(year, month)
            counts[shape] = counts.get(shape, 0) + 1
    return counts


class Transition(NamedTuple):
    at: int  # the UTC instant (POSIX seconds) from which the new offset applies
    before: int  # UTC offset in seconds before it
    after: int  # ... and from it on


def _offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _transitions(zone: ZoneInfo, start: int, end: int, step: int) -> list[Transition]:
    """The zone's offset changes in [start, end), found by sampling every ``step`` seconds and bisecting.

    Two changes closer together than ``step`` that cancel out are not seen (docs/cost.md).
    """
    found = []
    previous_at, previous = start, _offset(zone, start)
    for at in [*range(start + step, end, step), end]:
        current = _offset(zone, at)
        if current != previous:
            low, high = previous_at, at  # offset(low) == previous, offset(high) != previous
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == previous:
                    low = middle
                else:
                    high = middle
            found.append(Transition(high, previous, _offset(zone, high)))
        previous_at, previous = at, current
    return found


_FIXED_ZONES = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu")


@functools.lru_cache(maxsize=256)
def _cycle_transitions(key: str) -> tuple[Transition, ...]:
    if key in _FIXED_ZONES:
        return ()
    zone = ZoneInfo(key)
    start = int(datetime(CYCLE_START, 1, 1, tzinfo=timezone.utc).timestamp()) - 2 * 86400
    end = int(datetime(CYCLE_START + CYCLE_YEARS, 1, 1, tzinfo=timezone.utc).timestamp()) + 2 * 86400
    return tuple(_transitions(zone, start, end, _WEEK))


def _windows(transition: Transition) -> list[tuple[date, int, int, int]]:
    """The local wall times an offset change affects, per local date: (date, from second, to second, sign).

    Sign -1: clocks go forward and those local times never happen; +1: clocks go back and they happen twice.
    """
    old_wall = datetime(1970, 1, 1) + timedelta(seconds=transition.at + transition.before)
    new_wall = datetime(1970, 1, 1) + timedelta(seconds=transition.at + transition.after)
    low, high, sign = (old_wall, new_wall, -1) if new_wall > old_wall else (new_wall, old_wall, 1)
    out, day = [], low.date()
    while day <= high.date():
        midnight = datetime(day.year, day.month, day.day)
        start, stop = max(low, midnight), min(high, midnight + timedelta(days=1))
        if start < stop:
            out.append((day, int((start - midnight).total_seconds()), int((stop - midnight).total_seconds()), sign))
        day += timedelta(days=1)
    return out


def _correction(schedule: Schedule, windows: dict[tuple[tuple[int, int, int], int, int, int, int], int], repeated: str) -> int:
    """Runs to add to the wall-clock count: minus the local times that never happen, plus the repeated ones (unless fired once)."""
    seconds = [t * 60 for t in schedule.times]
    total = 0
    for (shape, day, low, high, sign), count in windows.items():
        if (sign > 0 and repeated == REPEATED_ONCE) or day not in matching_days(schedule, *shape):
            continue
        total += sign * count * (bisect.bisect_left(seconds, high) - bisect.bisect_left(seconds, low))
    return total


def _window_counts(transitions: Iterable[Transition], first: date, after: date) -> dict[tuple[tuple[int, int, int], int, int, int, int], int]:
    """Each distinct (month shape, day, from, to, sign) of the changes' windows in [first, after), with how often it occurs."""
    counts: dict[tuple[tuple[int, int, int], int, int, int, int], int] = {}
    for transition in transitions:
        for day, low, high, sign in _windows(transition):
            if first <= day < after:
                key = (_shape(day.year, day.month), day.day, low, high, sign)
                counts[key] = counts.get(key, 0) + 1
    return counts


@functools.lru_cache(maxsize=256)
def _cycle_windows(key: str) -> dict[tuple[tuple[int, int, int], int, int, int, int], int]:
    return _window_counts(_cycle_transitions(key), date(CYCLE_START, 1, 1), date(CYCLE_START + CYCLE_YEARS, 1, 1))


def runs_in_month(cron: str, zone_key: str, year: int, month: int, repeated: str = REPEATED_TWICE) -> int:
    """The exact number of instants the cron fires whose local time (in ``zone_key``) falls in that month."""
    schedule, zone = parse(cron), ZoneInfo(zone_key)
    runs = len(matching_days(schedule, *_shape(year, month))) * len(schedule.times)
    if not runs:
        return 0
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    if zone_key in _FIXED_ZONES:
        return runs
    start = int(datetime(first.year, first.month, 1, tzinfo=timezone.utc).timestamp()) - 2 * 86400
    end = int(datetime(after.year, after.month, 1, tzinfo=timezone.utc).timestamp()) + 2 * 86400
    return runs + _correction(schedule, _window_counts(_transitions(zone, start, end, 86400), first, after), repeated)


@functools.lru_cache(maxsize=4096)
def runs_in_cycle(cron: str, zone_key: str, repeated: str = REPEATED_TWICE) -> int:
    """The exact number of runs over the whole cycle 2001-2400 (4800 months), with the zone's rules as tzdata projects them."""
    schedule = parse(cron)
    runs = sum(len(matching_days(schedule, *shape)) * count for shape, count in _cycle_shapes().items()) * len(schedule.times)
    if not runs:
        return 0
    return runs + _correction(schedule, _cycle_windows(zone_key), repeated)


def average_runs_per_month(cron: str, zone_key: str, repeated: str = REPEATED_TWICE) -> Fraction:
    """Runs in an average month: the 400-year cycle's runs / 4800, exact."""
    return Fraction(runs_in_cycle(cron, zone_key, repeated), CYCLE_YEARS * 12)
