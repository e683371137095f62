"""Pacing of one bot's messages to Telegram, within this process.

Telegram asks bots to stay near one message a second per chat and thirty a second
overall, and answers 429 with `retry_after` beyond that. The pacer hands out send turns
under those limits and, after a 429, holds every send back until the time Telegram named
(its flood control is per bot, so PTB's own rate limiter pauses everything as well).
Several server processes each pace their own sends; together they may exceed the limits,
and the 429 path then keeps them honest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.rules.pacing import Spacing
from core.services.outbox.transport import HandBack

# Forgetting chats whose next turn has passed keeps the table small; checked this often.
_PRUNE_AT = 10_000


class BotPacer:
    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        per_second: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_chat = Spacing[int](per_chat_interval)
        self._overall = Spacing[None](1.0 / per_second if per_second > 0 else 0.0)
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0

    async def take_turn(self, chat_id: int | None, *, max_wait: float) -> None:
        """Return when a message to `chat_id` may go; None applies only the overall
        limit (a direct reply to a message the person just sent is not the kind of
        burst the per-chat limit is about).

        Raise HandBack (not tried, so no attempt is used) instead of waiting longer
        than `max_wait`: a caller such as the outbox dispatcher is better off
        rescheduling than holding its batch.
        """
        now = self._clock()
        overall = max(self._overall.free_at(None, now=now), self._paused_until)
        slot = overall
        if chat_id is not None:
            slot = max(slot, self._per_chat.free_at(chat_id, now=now))
        wait = slot - now
        if wait > max_wait:
            raise HandBack("held back by Telegram rate limits", retry_after=wait)
        # Take the turns before sleeping so concurrent callers queue up behind us.
        self._overall.take(None, at=overall)
        if chat_id is not None:
            self._per_chat.take(chat_id, at=slot)
            if len(self._per_chat) > _PRUNE_AT:
                self._per_chat.forget_passed(now=now)
        if wait > 0:
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: send nothing more until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))
