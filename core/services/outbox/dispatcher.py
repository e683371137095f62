"""Delivers the outbox: a loop that claims the messages due and hands each to its
channel's Transport (core.services.outbox.delivery).

Several processes may run a dispatcher against one database (core.services.outbox.claims
keeps each message in one claimer's hands). Within a process the dispatcher waits on its
app's Wakeup between polls, so a message written by an entry point of the same app
leaves at once; any other message is found at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from core import connectivity
from core.models import Channel
from core.rules.days import utcnow
from core.rules.delivery import DEFAULT_MAX_AGE, DEFAULT_SEND_TIMEOUT, SendBudget
from core.services.outbox import claims
from core.services.outbox.claims import Backoff, Claim
from core.services.outbox.delivery import Terms, deliver
from core.services.outbox.transport import Transport
from core.services.outbox.wakeup import Wakeup

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        transports: Mapping[Channel, Transport],
        *,
        wakeup: Wakeup | None = None,
        poll_interval: float = 0.25,
        batch_size: int = 50,
        max_attempts: int = 8,
        recipient: str | None = None,
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        base_backoff: float = 1.0,
        max_backoff: float = 900.0,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        fallback: Channel | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`wakeup` is the app's (None: a Wakeup of its own, so only polling finds
        work). `recipient` restricts this dispatcher to one phone (a console session must
        not print, and so consume, messages meant for other people's consoles). Messages
        older than `max_age` are skipped (None: never). `send_timeout` bounds each call
        to a channel (OUTBOX_SEND_TIMEOUT); the claim lease derives from it. A message that
        fails for good on its channel moves once to `fallback` (FALLBACK_TO_SMS), when
        this dispatcher delivers on that channel too (core.services.outbox.failover)."""
        self._transports = dict(transports)
        self._wakeup = wakeup or Wakeup()
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._recipient = recipient
        self._terms = Terms(
            budget=SendBudget(send_timeout),
            backoff=Backoff(max_attempts=max_attempts, base=base_backoff, cap=max_backoff),
            max_age=max_age,
            fallback=fallback if fallback in self._transports else None,
        )
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        self._wake = self._wakeup.subscribe()
        self._task = asyncio.create_task(self._loop(), name="outbox-dispatcher")

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let the batch in hand finish (up to `grace` seconds), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if self._wake is not None:
                self._wakeup.unsubscribe(self._wake)
                self._wake = None

    async def _loop(self) -> None:
        assert self._wake is not None
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.run_once()
                failures = 0
            except Exception as exc:
                # The database is down or a bug: keep the server up and try again, slower.
                failures += 1
                connectivity.log_loop_failure(log, "outbox dispatch", failures, exc)
                handled = 0
                await asyncio.sleep(min(self._poll_interval * 2**failures, 5.0))
            if handled >= self._batch_size or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def run_once(self) -> int:
        """Deliver the messages due now, once; return how many were handled."""
        claimed = await claims.claim(
            channels=self._transports,
            now=self._clock(),
            lease=self._terms.budget.lease,
            limit=self._batch_size,
            recipient=self._recipient,
        )
        by_recipient: dict[str, list[Claim]] = {}
        for claim in claimed:
            by_recipient.setdefault(claim.message.recipient, []).append(claim)
        # One recipient's messages go in order ("you're next" before "your turn");
        # different recipients go concurrently.
        await asyncio.gather(*(self._deliver_all(batch) for batch in by_recipient.values()))
        return len(claimed)

    async def _deliver_all(self, batch: list[Claim]) -> None:
        for claim in batch:
            transport = self._transports[Channel(claim.message.channel)]
            await deliver(claim=claim, transport=transport, terms=self._terms, clock=self._clock)
