"""Grace periods: when a called customer's half-time reminder and expiry fall due, and
whether the "your turn" notice reached them (the condition for closing the spot as a
no-show at expiry). Pure functions of plain values."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_GRACE_MINUTES = 15.0
# Four hours: past it a grace period is no longer a wait for someone on their way.
MAX_GRACE_MINUTES = 240.0

# What a channel's delivery report says when the message never reached the phone.
UNDELIVERED = frozenset({"failed", "undelivered"})


class Kind(StrEnum):
    REMINDER = "reminder"
    EXPIRY = "expiry"


def due_times(*, called_at: datetime, grace_minutes: float) -> dict[Kind, datetime]:
    """The due time of each timer one call gets: a reminder at half time, the expiry
    at the end; none when grace periods are off (0)."""
    if grace_minutes <= 0:
        return {}
    grace = timedelta(minutes=grace_minutes)
    return {Kind.REMINDER: called_at + grace / 2, Kind.EXPIRY: called_at + grace}


def extended(due_at: datetime, *, minutes: int) -> datetime:
    """A timer's due time after a LATE pushed it back by `minutes`."""
    return due_at + timedelta(minutes=minutes)


def reached(*, sent: bool, delivery_status: str | None, opted_out: bool) -> bool:
    """Whether the "your turn" notice reached a customer who can be reached: it went
    out, no delivery report says it failed, and they have not opted out."""
    return sent and (delivery_status or "").lower() not in UNDELIVERED and not opted_out


def period_minutes(*, called_at: datetime, due_at: datetime) -> float:
    """The length of a grace period that ends at `due_at`, in minutes."""
    return (due_at - called_at).total_seconds() / 60


def minutes_text(minutes: float) -> str:
    """Minutes as a person reads them: 15, 0.5, 7.25 (never 15.0)."""
    return f"{round(minutes, 2):g}"


def clock_time(moment: datetime, *, timezone: str) -> str:
    """The wall-clock time (24 h) of `moment` in the provider's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
