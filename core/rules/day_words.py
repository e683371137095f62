"""Days as people text them: today, tomorrow, weekday names, 2026-12-24, 24/12.

Reading a day is split in two: `find_day` picks the words out of a message before we
know which provider is meant; `resolve_day` turns them into a date once the provider's
time zone (and so "today") is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "weds": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_OFFSETS = {
    "today": 0,
    "tonight": 0,
    "tday": 0,
    "tdy": 0,
    "tomorrow": 1,
    "tomorow": 1,
    "tommorow": 1,
    "tommorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "tmw": 1,
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")


class BadDay(ValueError):
    """Words that look like a day but are not a calendar day (31/02)."""


@dataclass(frozen=True, slots=True)
class DayWords:
    """The words of a message that name a day, kept as text so a dialogue can store them."""

    text: str


@dataclass(frozen=True, slots=True)
class Found:
    day: DayWords | None
    rest: tuple[str, ...]


def _is_day_token(token: str) -> bool:
    low = token.lower()
    return (
        low in _WEEKDAYS or low in _OFFSETS or bool(_ISO.match(low)) or bool(_DAY_MONTH.match(low))
    )


def find_day(tokens: Sequence[str]) -> Found:
    """Take the first day expression out of `tokens`; the rest is left in order."""
    for i, token in enumerate(tokens):
        if not _is_day_token(token):
            continue
        start = i
        if i > 0 and tokens[i - 1].lower() == "next" and token.lower() in _WEEKDAYS:
            start = i - 1
        words = " ".join(t.lower() for t in tokens[start : i + 1])
        return Found(DayWords(words), tuple(tokens[:start]) + tuple(tokens[i + 1 :]))
    return Found(None, tuple(tokens))


def _calendar(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise BadDay(f"{day:02d}/{month:02d} is not a calendar day") from exc


def resolve_day(words: DayWords, *, today: date) -> date:
    """The date `words` names, seen from `today`. Raises BadDay.

    A weekday means its next occurrence, today included ("next friday" excludes
    today). A day/month without a year means the next such date from today.
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
        day, month = int(dm[1]), int(dm[2])
        if dm[3]:
            year = int(dm[3]) + (2000 if len(dm[3]) == 2 else 0)
            return _calendar(year, month, day)
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


def day_or_today(words: DayWords | None, *, today: date) -> date:
    """The day named, today when none was. Raises BadDay."""
    return resolve_day(words, today=today) if words is not None else today
