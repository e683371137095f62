"""Pacing of one bot's messages to Telegram: across every process and host on
PostgreSQL (core.services.pacing), within this process on SQLite.

Telegram asks bots to stay near one message a second per chat and thirty a second
overall, and answers 429 with `retry_after` beyond that. The pacer hands out send turns
under those limits and, after a 429, holds every send back until the time Telegram named
(its flood control is per bot, so PTB's own rate limiter pauses everything as well).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.rules.pacing import Spacing
from core.services import pacing
from core.services.outbox.transport import HandBack

# Forgetting chats whose next turn has passed keeps the table small; checked this often.
_PRUNE_AT = 10_000


class BotPacer:
    """`shared`: the turns are taken in the database under keys starting with `name`
    (one per bot), so every process and host sending as the bot draws on one budget."""

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        per_second: float = 30.0,
        shared: bool = False,
        name: str = "telegram",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_chat = Spacing[int](per_chat_interval)
        self._overall = Spacing[None](1.0 / per_second if per_second > 0 else 0.0)
        self._shared = shared
        self._name = name
        self._shared_turns = 0
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
        if self._shared:
            await self._shared_turn(chat_id, max_wait=max_wait)
            return
        wait = self._own_turn(chat_id, max_wait=max_wait)
        if wait > 0:
            await self._sleep(wait)

    def _own_turn(self, chat_id: int | None, *, max_wait: float) -> float:
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
        return wait

    async def _shared_turn(self, chat_id: int | None, *, max_wait: float) -> None:
        overall = pacing.Limit(self._name, self._overall.interval)
        chat = (
            None
            if chat_id is None
            else pacing.Limit(f"{self._name}:{chat_id}", self._per_chat.interval)
        )
        await pacing.wait_for_turn(
            limit=overall,
            within=chat,
            max_wait=max_wait,
            clock=self._clock,
            sleep=self._sleep,
            refusal="held back by Telegram rate limits",
        )
        self._shared_turns += 1
        if self._shared_turns % _PRUNE_AT == 0:
            await pacing.forget_passed()

    async def pause(self, seconds: float) -> None:
        """Telegram answered 429: send nothing more until `seconds` from now."""
        if self._shared:
            await pacing.hold(key=self._name, seconds=seconds)
            return
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))
