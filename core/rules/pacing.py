"""The arithmetic of pacing: send turns spaced in time, on a clock the caller reads.

A pacer (webhooks/sms/pacing.py per sending number, webhooks/telegram/pacing.py per chat
and per bot) asks when the next turn is free, decides whether that is worth waiting for,
takes the turn before it sleeps (so concurrent callers queue up behind it) and waits.
Here only the bookkeeping: no clock, no sleeping.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

# Turns are spaced this much wider than 1/rate. A send reaches the provider some time
# after its turn starts, and that time varies (a busy machine, the network); with turns
# exactly 1/rate apart, one slow send and one quick one can put rate + 2 arrivals in one
# second. The margin absorbs a spread of up to margin + (1 + margin) / rate seconds (a
# tenth of a second at 20 a second) for 5% of the throughput.
ARRIVAL_MARGIN = 0.05


def turn_interval(per_second: float) -> float:
    """Seconds between two turns under `per_second`, so that the provider never sees
    more than per_second + 1 sends in any one-second window."""
    return (1.0 + ARRIVAL_MARGIN) / per_second


class Spacing(Generic[K]):
    """Turns at least `interval` seconds apart for each key, in the order taken."""

    def __init__(self, interval: float) -> None:
        self.interval = max(interval, 0.0)
        self._free_at: dict[K, float] = {}

    def free_at(self, key: K, *, now: float) -> float:
        """The earliest time, `now` or later, at which a turn for `key` may start."""
        return max(now, self._free_at.get(key, now))

    def take(self, key: K, *, at: float) -> None:
        """Take the turn for `key` starting at `at` (no sooner than `free_at`): the next
        one is free an interval later."""
        self._free_at[key] = at + self.interval

    def forget_passed(self, *, now: float) -> None:
        """Drop the keys whose next turn is already free: they start afresh."""
        self._free_at = {key: at for key, at in self._free_at.items() if at > now}

    def __len__(self) -> int:
        return len(self._free_at)
