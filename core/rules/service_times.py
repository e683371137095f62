"""A provider's profile of measured service times, from which its waits are learned.

A service runs from being called to being done (core.rules.stats.service_minutes).
The profile holds the 25th, 50th and 75th percentiles (stats.quantile) of the services
completed in the last WINDOW_DAYS, over the whole window and per hour of the week
(Monday 00:00-00:59 local is hour 0, Sunday 23:00 is 167, by when the service was
called) for each hour with at least MIN_HOUR_SERVICES of them. core.rules.estimate
turns it into a wait.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from core.rules import stats
from core.rules.days import zone

WINDOW_DAYS = 30
MIN_HOUR_SERVICES = 20
HOURS_IN_WEEK = 7 * 24


@dataclass(frozen=True, slots=True)
class Spread:
    """How long one service took: how many were measured and their quartiles (minutes)."""

    n: int
    p25: float
    p50: float
    p75: float


@dataclass(frozen=True, slots=True)
class Profile:
    overall: Spread
    # Only hours of the week with at least MIN_HOUR_SERVICES services.
    hours: Mapping[int, Spread] = field(default_factory=dict)

    def at(self, hour_of_week: int | None) -> Spread:
        """The spread for a moment's hour of the week when that hour has enough
        history, else the whole window's."""
        if hour_of_week is None:
            return self.overall
        return self.hours.get(hour_of_week, self.overall)


def hour_of_week(moment: datetime, timezone: str) -> int:
    local = moment.astimezone(zone(timezone))
    return local.weekday() * 24 + local.hour


def _spread(minutes: list[float]) -> Spread:
    quartiles = [stats.quantile(minutes, q) for q in (0.25, 0.5, 0.75)]
    p25, p50, p75 = (q or 0.0 for q in quartiles)
    return Spread(len(minutes), p25, p50, p75)


def window_start(now: datetime) -> datetime:
    """Services done before this are left out of the profile at `now`."""
    return now - timedelta(days=WINDOW_DAYS)


def profile(records: Iterable[stats.Record], *, timezone: str, now: datetime) -> Profile | None:
    """The profile of the completed services among `records` done within the window
    ending at `now`; None when there is none."""
    since = window_start(now)
    overall: list[float] = []
    by_hour: dict[int, list[float]] = {}
    for record in records:
        minutes = stats.service_minutes(record)
        if minutes is None or record.called_at is None or record.closed_at is None:
            continue
        if not since <= record.closed_at <= now:
            continue
        overall.append(minutes)
        by_hour.setdefault(hour_of_week(record.called_at, timezone), []).append(minutes)
    if not overall:
        return None
    hours = {
        hour: _spread(values)
        for hour, values in sorted(by_hour.items())
        if len(values) >= MIN_HOUR_SERVICES
    }
    return Profile(_spread(overall), hours)


def _spread_json(spread: Spread) -> list[float]:
    return [spread.n, round(spread.p25, 2), round(spread.p50, 2), round(spread.p75, 2)]


def to_json(found: Profile) -> dict[str, Any]:
    """As stored in service_accounts.wait_profile."""
    return {
        "all": _spread_json(found.overall),
        "hours": {str(hour): _spread_json(s) for hour, s in found.hours.items()},
    }


def _spread_of(value: Any) -> Spread:
    n, p25, p50, p75 = value
    return Spread(int(n), float(p25), float(p50), float(p75))


@lru_cache(maxsize=1024)
def _parsed(text: str) -> Profile:
    data = json.loads(text)
    hours = {int(hour): _spread_of(value) for hour, value in data.get("hours", {}).items()}
    return Profile(_spread_of(data["all"]), hours)


def from_json(value: Any) -> Profile | None:
    """The stored profile (text as a raw query reads it, or already decoded); None for
    NULL. Text is parsed once per distinct profile: every STATUS reads it."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return _parsed(value)
    return _parsed(json.dumps(value, sort_keys=True))
