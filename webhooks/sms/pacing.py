"""Pacing of outbound SMS per sending number, within this process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.rules.pacing import Spacing
from core.services.outbox.transport import HandBack


class NumberPacer:
    """Spaces sends from one sending number (or Messaging Service) at least 1/rate
    seconds apart.

    Per process: with several server processes each paces itself, so the combined rate
    is workers x SMS_MAX_PER_SECOND. Twilio queues what exceeds a number's rate rather
    than rejecting it, so this keeps its queue short rather than guarding correctness.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._spacing = Spacing[str](1.0 / per_second)
        self._clock = clock
        self._sleep = sleep

    async def take_turn(self, number: str, *, max_wait: float) -> None:
        """Return when a send from `number` may go; HandBack (nothing was tried, so not
        a failed attempt) if that is more than `max_wait` seconds off."""
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
