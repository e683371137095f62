"""A provider's capacity: how many may wait at once, how many may book a day, how many
are served at once (chairs), and the days a provider closed by hand (CLOSE)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# The largest limits a provider may set; far above any real shop, small enough for SQL ints.
MAX_CAPACITY = 100_000
MAX_CHAIRS = 1000


@dataclass(frozen=True, slots=True)
class Limits:
    max_waiting: int | None = None
    daily_limit: int | None = None

    @property
    def any(self) -> bool:
        return self.max_waiting is not None or self.daily_limit is not None


@dataclass(frozen=True, slots=True)
class DayLoad:
    """A day's line: people waiting (not yet called) and bookings not canceled."""

    waiting: int = 0
    booked: int = 0


def has_room(load: DayLoad, limits: Limits) -> bool:
    """Whether one more join fits the day under both limits."""
    if limits.max_waiting is not None and load.waiting >= limits.max_waiting:
        return False
    return limits.daily_limit is None or load.booked < limits.daily_limit


def is_closed(day: date, *, closed_on: date | None, today: date) -> bool:
    """CLOSE stops today's joins only: a booking for a later day is not affected."""
    return closed_on is not None and closed_on == today == day


def next_day_with_room(
    loads: Mapping[date, DayLoad],
    limits: Limits,
    *,
    after: date,
    last: date,
    closed: frozenset[date] = frozenset(),
) -> date | None:
    """The first day after `after`, up to `last`, that takes one more join; None if none."""
    day = after + timedelta(days=1)
    while day <= last:
        if day not in closed and has_room(loads.get(day, DayLoad()), limits):
            return day
        day += timedelta(days=1)
    return None


def wait_minutes(minutes_ahead: int, chairs: int) -> int:
    """The estimated wait given the booked minutes of everyone ahead: `chairs` people
    are served at once, so the line moves that many times faster."""
    return minutes_ahead // max(chairs, 1)
