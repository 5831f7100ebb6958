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
from collections.abc import Iterator
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
