"""Pacing of outbound SMS per sending number: across every process and host on
PostgreSQL (core.services.pacing), within this process on SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.rules.pacing import Spacing, turn_interval
from core.services import pacing
from core.services.outbox.transport import HandBack


class NumberPacer:
    """Spaces sends from one sending number (or Messaging Service) evenly, with no
    burst, so that Twilio sees at most rate + 1 in any one-second window
    (core.rules.pacing.turn_interval: a little over 1/rate apart).

    `shared`: the turns are taken in the database, so every server process and host
    sending from the number draws on one budget (PostgreSQL). Otherwise this process
    keeps them, which is right where one process sends (SQLite).
    """

    def __init__(
        self,
        per_second: float,
        *,
        shared: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = turn_interval(per_second)
        self._spacing = Spacing[str](self._interval)
        self._shared = shared
        self._clock = clock
        self._sleep = sleep

    async def take_turn(self, number: str, *, max_wait: float) -> None:
        """Return when a send from `number` may go; HandBack (nothing was tried, so not
        a failed attempt) if that is more than `max_wait` seconds off."""
        if self._shared:
            await pacing.wait_for_turn(
                limit=pacing.Limit(f"sms:{number}", self._interval),
                max_wait=max_wait,
                clock=self._clock,
                sleep=self._sleep,
                refusal="sender is paced",
            )
            return
        now = self._clock()
        slot = self._spacing.free_at(number, now=now)
        wait = slot - now
        if wait > max_wait:
            raise HandBack("sender is paced", retry_after=wait)
        # Take the turn before sleeping: concurrent callers queue up behind it. No await
        # between reading and writing, so no lock is needed.
        self._spacing.take(number, at=slot)
        if wait > 0:
            await self._sleep(wait)
