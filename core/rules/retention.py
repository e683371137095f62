"""How long each kind of record is kept, and where a redelivery's record is looked for.

Pruning (core.services.pruning) deletes at most BATCH_ROWS rows per statement, so a
prune of millions of rows never holds a lock or a burst of I/O long enough to slow
the hot paths. A record is kept as long as anything may still read it: an inbound
record while its message may be redelivered and for the days an operator looks back
(RETAIN_INBOUND_DAYS), an outbox row for the days its delivery may be asked about
(RETAIN_OUTBOX_DAYS), the rest until their own rules stop reading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.rules import console_access, idempotency, undo

BATCH_ROWS = 5000

# A flood-limit window counts one minute; a row idle for an hour counts nothing.
RATE_IDLE = timedelta(hours=1)
# A fired grace timer is read by nothing; a day keeps it for a look at what happened.
FIRED_TIMER_KEPT = timedelta(days=1)

# How long after the first delivery a channel may deliver the same message again.
# Telegram retries an update it could not deliver for up to a day (its ids grow, so
# yesterday's part of the index a redelivery is looked for in is its newest end, in
# memory); Twilio retries a webhook within seconds, and a replay by a proxy comes
# within minutes.
REDELIVERY_HORIZON = {"telegram": timedelta(days=1)}
DEFAULT_REDELIVERY_HORIZON = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Retention:
    inbound_days: int
    outbox_days: int


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """What is past retention at one moment: rows older than these go."""

    # Inbound records received (UTC day) before this day.
    inbound_before: date
    # Sent, failed and skipped outbox rows created before this.
    outbox_before: datetime
    # Flood-limit rows whose window started before this.
    rates_before: datetime
    # Dialogues (conversations) that expired before this.
    dialogues_before: datetime
    undo_before: datetime
    timers_fired_before: datetime
    # Status links of days before this one: that day has ended everywhere on Earth.
    links_before: date
    codes_before: datetime
    sessions_before: datetime
    idempotency_before: datetime


def cutoffs(now: datetime, retention: Retention) -> Cutoffs:
    today = now.date()
    return Cutoffs(
        inbound_before=today - timedelta(days=retention.inbound_days),
        outbox_before=now - timedelta(days=retention.outbox_days),
        rates_before=now - RATE_IDLE,
        dialogues_before=now,
        undo_before=now - undo.WINDOW,
        timers_fired_before=now - FIRED_TIMER_KEPT,
        # UTC-12 is the last zone where a day ends: 12:00 UTC of the next day.
        links_before=today - timedelta(days=1),
        # The hourly limit on codes counts those of the last CODE_WINDOW.
        codes_before=now - max(console_access.CODE_WINDOW, console_access.CODE_TTL),
        sessions_before=now,
        idempotency_before=idempotency.expired_before(now),
    )


def dedupe_days(channel: str, now: datetime) -> tuple[date, date]:
    """The UTC day a delivery received at `now` is recorded under, and the earliest day
    a first delivery of the same message may have been recorded under (the same day
    unless the channel's redelivery horizon reaches back past midnight)."""
    horizon = REDELIVERY_HORIZON.get(channel, DEFAULT_REDELIVERY_HORIZON)
    return now.date(), (now - horizon).date()
