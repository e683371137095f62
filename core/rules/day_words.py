"""Days as people text them: today, tomorrow, yesterday, weekday names, 2026-12-24, 24/12.

Reading a day is split in two: `find_day` picks the words out of a message before we
know which provider is meant; `resolve_day` turns them into a date once the provider's
time zone (and so "today") and country (and so the order of 03/04) are known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from core.locales import fold
from core.rules.regions import FALLBACK_REGION
from core.rules.vocabulary import DAY_OFFSETS, WEEKDAYS

# Every language's day words (their catalogs' `weekdays` and `day_offsets`), folded.
_WEEKDAYS = WEEKDAYS
_OFFSETS = DAY_OFFSETS
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")


class BadDay(ValueError):
    """Words that look like a day but are not a calendar day (31/02)."""


class DateOrder(StrEnum):
    """How a numeric date such as 03/04 is read where both readings are calendar days."""

    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


# Countries that write numeric dates month first: there 03/04 is March 4, elsewhere
# 3 April. Canada writes both; its English usage, taken here, is month first.
MONTH_FIRST_COUNTRIES = frozenset({"US", "CA", "PH"})


def date_order(country: str | None) -> DateOrder:
    """The order of numeric dates in `country` (ISO 3166 alpha-2); no country is read as
    the fallback region, as everywhere else."""
    code = (country or FALLBACK_REGION).upper()
    return DateOrder.MONTH_FIRST if code in MONTH_FIRST_COUNTRIES else DateOrder.DAY_FIRST


@dataclass(frozen=True, slots=True)
class DayWords:
    """The words of a message that name a day, kept as text so a dialogue can store them."""

    text: str


@dataclass(frozen=True, slots=True)
class Found:
    day: DayWords | None
    rest: tuple[str, ...]


def _is_day_token(token: str) -> bool:
    low = fold(token)
    return (
        low in _WEEKDAYS or low in _OFFSETS or bool(_ISO.match(low)) or bool(_DAY_MONTH.match(low))
    )


def find_day(tokens: Sequence[str]) -> Found:
    """Take the first day expression out of `tokens`; the rest is left in order."""
    for i, token in enumerate(tokens):
        if not _is_day_token(token):
            continue
        start = i
        if i > 0 and tokens[i - 1].lower() == "next" and fold(token) in _WEEKDAYS:
            start = i - 1
        words = " ".join(fold(t) for t in tokens[start : i + 1])
        return Found(DayWords(words), tuple(tokens[:start]) + tuple(tokens[i + 1 :]))
    return Found(None, tuple(tokens))


def _calendar(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise BadDay(f"{day:02d}/{month:02d} is not a calendar day") from exc


def _possible(month: int, day: int, year: int | None) -> bool:
    try:
        # Without a year, 29/02 is possible: it means the next leap year's.
        date(2000 if year is None else year, month, day)
    except ValueError:
        return False
    return True


def resolve_day(words: DayWords, *, today: date, order: DateOrder) -> date:
    """The date `words` names, seen from `today`. Raises BadDay.

    A weekday means its next occurrence, today included ("next friday" excludes
    today). A numeric date is read in `order` when both readings are calendar days,
    else the one way it is a day (12/24 and 24/12 are both December 24); ISO
    (2026-12-24) always. Without a year it means the next such date from today.
    """
    parts = words.text.split()
    last = parts[-1]
    if last in _OFFSETS:
        return today + timedelta(days=_OFFSETS[last])
    if last in _WEEKDAYS:
        ahead = (_WEEKDAYS[last] - today.weekday()) % 7
        if ahead == 0 and parts[0] == "next":
            ahead = 7
        return today + timedelta(days=ahead)
    iso = _ISO.match(last)
    if iso:
        return _calendar(int(iso[1]), int(iso[2]), int(iso[3]))
    dm = _DAY_MONTH.match(last)
    if dm:
        first, second = int(dm[1]), int(dm[2])
        given = None if dm[3] is None else int(dm[3]) + (2000 if len(dm[3]) == 2 else 0)
        readings = [(first, second), (second, first)]  # (day, month), day first
        if order is DateOrder.MONTH_FIRST:
            readings.reverse()
        day, month = next(((d, m) for d, m in readings if _possible(m, d, given)), readings[0])
        if given is not None:
            return _calendar(given, month, day)
        candidate = _calendar(today.year, month, day) if not (month == 2 and day == 29) else None
        if candidate is None:
            # 29/02: the next leap year's, from this year on.
            year = today.year
            while True:
                try:
                    candidate = date(year, 2, 29)
                except ValueError:
                    year += 1
                    continue
                if candidate >= today:
                    return candidate
                year += 1
        if candidate < today:
            candidate = _calendar(today.year + 1, month, day)
        return candidate
    raise BadDay(f"{words.text!r} is not a day")


def day_or_today(words: DayWords | None, *, today: date, order: DateOrder) -> date:
    """The day named, today when none was. Raises BadDay."""
    return resolve_day(words, today=today, order=order) if words is not None else today


def could_be(words: DayWords, day: date, *, today: date) -> bool:
    """Whether `words` may name `day` read in either order (to pick among one's own
    appointments, where the provider's order is not at hand)."""
    for order in DateOrder:
        try:
            if resolve_day(words, today=today, order=order) == day:
                return True
        except BadDay:
            continue
    return False


def passed_everywhere(words: DayWords, *, now: datetime) -> bool:
    """Whether `words` name a day already over in every time zone, read in either
    order ("yesterday", 2020-01-01): no place can take it, so there is nothing to ask."""
    # The earliest today on Earth is UTC-12's.
    earliest = (now.astimezone(UTC) - timedelta(hours=12)).date()
    passed = False
    for order in DateOrder:
        try:
            if resolve_day(words, today=earliest, order=order) >= earliest:
                return False
        except BadDay:
            continue
        passed = True
    return passed
