"""UNDO: which provider actions it reverts, and for how long."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

WINDOW = timedelta(minutes=10)


class Action(StrEnum):
    NEXT = "next"
    DONE = "done"
    NOSHOW = "noshow"
    # The grace period's expiry closing a spot; written by that timer once it exists.
    AUTO_NOSHOW = "auto_noshow"


def expired(*, taken_at: datetime, now: datetime) -> bool:
    return now - taken_at > WINDOW


class Outcome(StrEnum):
    UNDONE = "undone"
    NOTHING = "nothing"
    ALREADY_UNDONE = "already_undone"
    EXPIRED = "expired"
    # The appointment or the customer's score changed since the action (they left,
    # another event was recorded): putting the old values back would lose that.
    CHANGED_SINCE = "changed_since"
    # The customer holds another active spot that day (one per day, any provider).
    BOOKED_ELSEWHERE = "booked_elsewhere"
