"""The one rule for a quoted wait: from the people ahead, their booked minutes, the
provider's chairs, its learned profile (core.rules.service_times), its DELAY for the
day and the local hour, a wait with its range.

With history, each person ahead takes the profile's median service time (the hour
of the week's when it qualifies, else the window's), shared by the chairs; the range
runs from the 25th to the 75th percentile the same way. Without history, the booked
minutes ahead shared by the chairs, with no range. The DELAY is added to every figure.
Range ends of 10 minutes or more are rounded to 5 minutes; ends that round equal show
one number, and so does a wait whose high end reaches half a day (MAX_RANGED_MINUTES:
so far ahead the spread says little, and one number keeps every reply one segment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.rules import capacity
from core.rules import delay as delay_rules
from core.rules.days import today_in
from core.rules.queue_spot import Spot
from core.rules.service_times import Profile, hour_of_week

# Range ends from here up are rounded to ROUND_TO minutes: "15-25 min", not "14-26".
ROUND_FROM = 10
ROUND_TO = 5
MAX_RANGED_MINUTES = 720


@dataclass(frozen=True, slots=True)
class Wait:
    minutes: int
    # Low and high ends of the range; None without one (no history, or ends equal).
    range: tuple[int, int] | None = None


def _end(minutes: float) -> int:
    if minutes < ROUND_FROM:
        return round(minutes)
    return ROUND_TO * round(minutes / ROUND_TO)


@dataclass(frozen=True, slots=True)
class Basis:
    """What a provider's waits on one day are reckoned from, besides the line."""

    chairs: int = 1
    profile: Profile | None = None
    # The local hour of the week now, for today's line; None for a later day.
    hour_of_week: int | None = None
    delay: int = 0

    def wait(self, *, ahead: int, booked_minutes: int) -> Wait:
        chairs = max(self.chairs, 1)
        if self.profile is None:
            return Wait(capacity.wait_minutes(booked_minutes, chairs) + self.delay)
        spread = self.profile.at(self.hour_of_week)
        middle = round(ahead * spread.p50 / chairs) + self.delay
        low = _end(ahead * spread.p25 / chairs) + self.delay
        high = _end(ahead * spread.p75 / chairs) + self.delay
        ranged = low < high < MAX_RANGED_MINUTES
        return Wait(middle, (low, high) if ranged else None)

    def spot(self, *, ahead: int, booked_minutes: int) -> Spot:
        wait = self.wait(ahead=ahead, booked_minutes=booked_minutes)
        return Spot(
            position=ahead + 1, ahead=ahead, wait_minutes=wait.minutes, wait_range=wait.range
        )


def basis(
    *,
    day: date,
    now: datetime,
    timezone: str,
    chairs: int,
    profile: Profile | None,
    delay_day: date | None,
    delay_minutes: int | None,
) -> Basis:
    """The basis for `day`'s line as the provider's row gives it."""
    # Only a profile reads the hour: without one (most STATUS texts) no local time is
    # worked out at all.
    hour = None
    if profile is not None and day == today_in(timezone, now=now):
        hour = hour_of_week(now, timezone)
    return Basis(
        chairs=chairs,
        profile=profile,
        hour_of_week=hour,
        delay=delay_rules.delay_on(day, delay_day=delay_day, minutes=delay_minutes),
    )
