"""Rules for proactive messages on their way out: when one is too old to send, which
delivery report about it is the latest word, and how long a send and its claim last."""

from __future__ import annotations

from dataclasses import dataclass
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


# The time budget of one send (OUTBOX_SEND_TIMEOUT) and the claim lease derived from it.
DEFAULT_SEND_TIMEOUT = 15.0
# How much longer than a send's timeout its claim lasts: room to record the outcome
# after the longest send, and for the clocks of two processes to differ a little.
LEASE_MARGIN = 5.0


@dataclass(frozen=True, slots=True)
class SendBudget:
    """How long one send through a channel may take, all of it: the wait for a pacing
    slot and the request. Every other delivery timing derives from it, so they are set
    together with one setting and cannot contradict one another.

    A message is claimed for `lease`, just longer than one send, and the claim is renewed
    before each call to the channel; so a send (pacing wait included) always ends, or is
    cut off by its timeout, while its claim holds, and no other process takes the message
    over meanwhile. A process that dies mid-send frees its messages `lease` after it last
    claimed or renewed them.
    """

    send_timeout: float = DEFAULT_SEND_TIMEOUT

    def __post_init__(self) -> None:
        if not self.send_timeout > 0:
            raise ValueError("the send timeout must be positive")

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.send_timeout + LEASE_MARGIN)

    @property
    def renew_after(self) -> timedelta:
        """A claim older than this is renewed before the next call to the channel, so
        at least half the margin is left for recording that call's outcome."""
        return timedelta(seconds=LEASE_MARGIN / 2)

    @property
    def pacing_wait(self) -> float:
        """The longest a send waits for its pacing slot; past it, the message is handed
        back unsent (not a failed attempt) rather than cut off mid-wait."""
        return self.send_timeout / 2

    @property
    def request_timeout(self) -> float:
        """The longest the channel's request may take after the pacing wait."""
        return self.send_timeout - self.pacing_wait
