"""Rules for proactive messages on their way out: when one is too old to send, and
which delivery report about it is the latest word."""

from __future__ import annotations

from datetime import datetime, timedelta

# A queue notice is about now: "your turn" from yesterday (held back because SMS was
# configured only later, or because the channel was down) must not go out.
DEFAULT_MAX_AGE = timedelta(hours=2)


def too_old(*, created_at: datetime, now: datetime, max_age: timedelta | None) -> str | None:
    """Why a message written at `created_at` must not be sent at `now`, or None if it
    may. `max_age` None means messages never go stale."""
    if max_age is None:
        return None
    age = now - created_at
    if age <= max_age:
        return None
    return f"too old to send: written {_span(age)} ago, limit {_span(max_age)}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


# Twilio's message statuses in the order a message passes through them. Status
# callbacks can arrive out of order (a "sent" after the "delivered"); a report never
# replaces a later one. Unknown words rank with the first.
_STAGE = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}


def supersedes(new: str, old: str | None) -> bool:
    """Whether delivery report `new` should replace the recorded `old`."""
    if old is None:
        return True
    return _STAGE.get(new, 0) >= _STAGE.get(old, 0)
