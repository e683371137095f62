"""Pacing of messages to Telegram, within this process.

Telegram asks bots to stay near one message a second per chat and thirty a second
overall, and answers 429 with `retry_after` beyond that. The pacer hands out send slots
under those limits and, after a 429, holds every send back until the time Telegram named
(its flood control is per bot, so PTB's own rate limiter pauses everything as well).
Several server processes each pace their own sends; together they may exceed the limits,
and the 429 path then keeps them honest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.senders import HandBack

# Forgetting chats whose next slot has passed keeps the table small; checked this often.
_PRUNE_AT = 10_000


class Pacer:
    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        per_second: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_chat_interval = per_chat_interval
        self._global_interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._chat_next: dict[int, float] = {}
        self._global_next = 0.0
        self._paused_until = 0.0

    async def acquire(self, chat_id: int, *, max_wait: float, per_chat: bool = True) -> None:
        """Wait for a slot to send to `chat_id`.

        Raise HandBack (not tried, so no attempt is used) instead of waiting longer than `max_wait`: a caller such as the
        outbox dispatcher is better off rescheduling than holding its batch.
        `per_chat=False` applies only the global limit (a direct reply to a message the
        person just sent is not the kind of burst the per-chat limit is about).
        """
        now = self._clock()
        global_slot = max(now, self._global_next, self._paused_until)
        slot = global_slot
        if per_chat:
            slot = max(slot, self._chat_next.get(chat_id, 0.0))
        wait = slot - now
        if wait > max_wait:
            raise HandBack("held back by Telegram rate limits", retry_after=wait)
        # Reserve the slots before sleeping so concurrent callers queue up behind us.
        self._global_next = global_slot + self._global_interval
        if per_chat:
            self._chat_next[chat_id] = slot + self._per_chat_interval
            if len(self._chat_next) > _PRUNE_AT:
                self._prune(now)
        if wait > 0:
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: send nothing more until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def _prune(self, now: float) -> None:
        self._chat_next = {chat: at for chat, at in self._chat_next.items() if at > now}
