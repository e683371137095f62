"""Opening hours: a provider's weekly intervals in its own time zone and its closed dates.

Stored as given in the admin API ({"mon": [["09:00", "12:00"], ...]}, ISO dates); a day
missing from `hours` is closed, and no hours at all means always open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The next open day is looked for within a year: a provider open on one date a year
# still has one; past that the reply names none.
_SEARCH_DAYS = 366


class InvalidHours(ValueError):
    """Hours or closed dates that are not what the admin API accepts."""


def _clock(value: Any, where: str) -> time:
    if not isinstance(value, str) or not (match := _CLOCK.match(value)):
        raise InvalidHours(f"{where}: times must be HH:MM (00:00 to 23:59), got {value!r}")
    return time(int(match[1]), int(match[2]))


def check_hours(value: Any) -> dict[str, list[list[str]]] | None:
    """The weekly hours if valid (intervals as given), else InvalidHours saying why."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidHours('hours must be an object such as {"mon": [["09:00", "17:00"]]}')
    checked: dict[str, list[list[str]]] = {}
    for key, intervals in value.items():
        if key not in WEEKDAYS:
            raise InvalidHours(f"hours: unknown day {key!r} (use {', '.join(WEEKDAYS)})")
        if not isinstance(intervals, list):
            raise InvalidHours(f"hours.{key} must be a list of [opens, closes] pairs")
        previous_end: time | None = None
        for n, interval in enumerate(intervals):
            where = f"hours.{key}[{n}]"
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise InvalidHours(f"{where} must be a pair [opens, closes]")
            opens, closes = _clock(interval[0], where), _clock(interval[1], where)
            if opens >= closes:
                raise InvalidHours(f"{where}: opens must be before closes")
            if previous_end is not None and opens < previous_end:
                raise InvalidHours(f"{where}: intervals must be in order and not overlap")
            previous_end = closes
        checked[key] = [[str(a), str(b)] for a, b in intervals]
    return checked


def check_closed_dates(value: Any) -> list[str] | None:
    """The closed dates as sorted ISO dates without repeats, else InvalidHours."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidHours("closed_dates must be a list of dates (YYYY-MM-DD)")
    days: set[date] = set()
    for n, item in enumerate(value):
        problem = InvalidHours(f"closed_dates[{n}] must be a date (YYYY-MM-DD), got {item!r}")
        if not isinstance(item, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
            raise problem
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise problem from None
    return [d.isoformat() for d in sorted(days)]


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Checked hours and closed dates, read by the booking rules."""

    weekly: Mapping[str, tuple[tuple[time, time], ...]] | None
    closed: frozenset[date]

    @classmethod
    def of(
        cls, hours: Mapping[str, Any] | None, closed_dates: Iterable[str] | None
    ) -> OpeningHours:
        weekly = None
        if hours is not None:
            weekly = {
                day: tuple((_clock(a, day), _clock(b, day)) for a, b in intervals)
                for day, intervals in hours.items()
            }
        return cls(weekly, frozenset(date.fromisoformat(d) for d in closed_dates or ()))

    def intervals(self, day: date) -> tuple[tuple[time, time], ...] | None:
        """The day's intervals; None when the provider sets no hours (open all day)."""
        if self.weekly is None:
            return None
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    def is_open(self, day: date) -> bool:
        if day in self.closed:
            return False
        intervals = self.intervals(day)
        return intervals is None or bool(intervals)

    def next_open_day(self, after: date, *, last: date | None = None) -> date | None:
        """The first open day after `after` (up to `last`, if given), or None."""
        day = after
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=1)
            if last is not None and day > last:
                return None
            if self.is_open(day):
                return day
        return None

    def closing_time(self, day: date) -> time | None:
        """When the day's last interval ends; None if it has no closing (no hours set)
        or is closed."""
        intervals = self.intervals(day)
        if not intervals or day in self.closed:
            return None
        return intervals[-1][1]


def turn_after_closing(closes: time, *, local_now: time, wait_minutes: int) -> bool:
    """Whether a turn `wait_minutes` from `local_now` falls after `closes` the same day."""
    now_minutes = local_now.hour * 60 + local_now.minute
    return now_minutes + wait_minutes > closes.hour * 60 + closes.minute
