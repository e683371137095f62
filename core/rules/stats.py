"""A provider's figures over a range of days, from plain records of its appointments.

Waits run from joining to being called. A spot booked on an earlier day than its own
did not wait overnight, so its wait starts at the day's opening: `opening(day)`, which
is local midnight in the provider's time zone until the provider has opening hours.
Service time runs from being called to being done. Percentiles interpolate between the
closest ranks (the "inclusive" method of statistics.quantiles, numpy's default).

The estimate error is the median of |quoted wait - actual wait| over spots that carry
the wait quoted at joining; spots without one are left out, and with none the error is
None. Joining by chat stores the quote (appointments.quoted_wait_minutes); an API
booking quotes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from core.rules.days import zone
from core.rules.message_stats import NO_MESSAGES, MessageFigures

# Long enough for a year's report; a longer range is refused rather than summed.
MAX_RANGE_DAYS = 366
# STATS week: the seven days ending today.
WEEK_DAYS = 7

SERVED, CANCELED, NO_SHOW = "completed", "canceled", "no_show"


@dataclass(frozen=True, slots=True)
class Record:
    """One appointment as the figures need it (statuses as core.models.Status spells them)."""

    day: date
    status: str
    booked_at: datetime
    called_at: datetime | None = None
    # When it was completed, canceled or marked a no-show.
    closed_at: datetime | None = None
    # The wait, in minutes, the customer was told at joining, when it was stored.
    quoted_wait: float | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts and minutes over some appointments; None where nothing was measured."""

    served: int
    cancellations: int
    no_shows: int
    no_show_rate: float | None
    median_wait: float | None
    p90_wait: float | None
    median_service: float | None
    estimate_error: float | None


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True, slots=True)
class Stats:
    start: date
    end: date
    total: Figures
    # Only days with at least one appointment, in order.
    days: tuple[DayFigures, ...]
    # The messages about the provider's lines sent in the range (core.rules.message_stats).
    messages: MessageFigures = NO_MESSAGES


class BadRange(ValueError):
    """A range of days the figures are not given for; the message says why."""


def check_order(start: date, end: date) -> None:
    if start > end:
        raise BadRange("from must be on or before to")


def check_range(start: date, end: date) -> None:
    check_order(start, end)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadRange(f"the range may span at most {MAX_RANGE_DAYS} days")


def period(word: str | None, *, today: date) -> tuple[date, date]:
    """The days STATS [day|week] covers: today, or the seven days ending today."""
    if word == "week":
        return today - timedelta(days=WEEK_DAYS - 1), today
    return today, today


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) of `values`, interpolated between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def midnight_opening(timezone: str) -> Callable[[date], datetime]:
    """Each day opens at local midnight in `timezone` (a provider without hours)."""
    tz = zone(timezone)
    return lambda day: datetime.combine(day, time(), tzinfo=tz)


def _minutes(start: datetime, end: datetime) -> float:
    # A clock set back, or a spot called before its day opened, counts as no wait.
    return max((end - start).total_seconds() / 60, 0.0)


def wait_minutes(record: Record, *, opening: Callable[[date], datetime]) -> float | None:
    if record.called_at is None:
        return None
    opens = opening(record.day)
    start = opens if record.booked_at < opens else record.booked_at
    return _minutes(start, record.called_at)


def service_minutes(record: Record) -> float | None:
    if record.status != SERVED or record.called_at is None or record.closed_at is None:
        return None
    return _minutes(record.called_at, record.closed_at)


@dataclass
class _Tally:
    served: int = 0
    cancellations: int = 0
    no_shows: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)

    def add(self, record: Record, opening: Callable[[date], datetime]) -> None:
        if record.status == SERVED:
            self.served += 1
        elif record.status == CANCELED:
            self.cancellations += 1
        elif record.status == NO_SHOW:
            self.no_shows += 1
        wait = wait_minutes(record, opening=opening)
        if wait is not None:
            self.waits.append(wait)
            if record.quoted_wait is not None:
                self.errors.append(abs(record.quoted_wait - wait))
        service = service_minutes(record)
        if service is not None:
            self.services.append(service)

    def figures(self) -> Figures:
        attended = self.served + self.no_shows
        return Figures(
            served=self.served,
            cancellations=self.cancellations,
            no_shows=self.no_shows,
            no_show_rate=self.no_shows / attended if attended else None,
            median_wait=quantile(self.waits, 0.5),
            p90_wait=quantile(self.waits, 0.9),
            median_service=quantile(self.services, 0.5),
            estimate_error=quantile(self.errors, 0.5),
        )


class Summary:
    """The figures of records added one at a time, so a long range is never held whole."""

    def __init__(self, *, opening: Callable[[date], datetime]) -> None:
        self._opening = opening
        self._total = _Tally()
        self._days: dict[date, _Tally] = {}

    def add(self, record: Record) -> None:
        self._total.add(record, self._opening)
        self._days.setdefault(record.day, _Tally()).add(record, self._opening)

    def stats(self, *, start: date, end: date) -> Stats:
        """Per-day figures and the range's totals (totals are over all records, not an
        average of the days)."""
        days = tuple(DayFigures(day, self._days[day].figures()) for day in sorted(self._days))
        return Stats(start=start, end=end, total=self._total.figures(), days=days)


def summarize(
    records: Iterable[Record],
    *,
    start: date,
    end: date,
    opening: Callable[[date], datetime],
) -> Stats:
    summary = Summary(opening=opening)
    for record in records:
        summary.add(record)
    return summary.stats(start=start, end=end)
