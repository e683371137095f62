"""The loop that fires grace timers as they fall due (core.services.grace.fire_due).

Every server process and console session runs one against the shared database; each
timer fires once whichever process claims it. What a timer writes to the outbox wakes
this app's dispatcher (its Wakeup), as an entry point's writes do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from core import connectivity
from core.rules.days import utcnow
from core.services import grace, line_events
from core.services.outbox.wakeup import Wakeup

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 1.0


class GraceWorker:
    def __init__(
        self,
        *,
        wakeup: Wakeup | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        batch_size: int = 50,
        clock: Callable[[], datetime] = utcnow,
        publish: line_events.Publish | None = None,
    ) -> None:
        """`clock` is what "now" is for the timers (tests set it); `publish` is told the
        lines the timers changed, once they committed (the screens' live updates)."""
        self._wakeup = wakeup or Wakeup()
        self._publish = publish
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="grace-worker")

    async def stop(self, *, grace_seconds: float = 5.0) -> None:
        """Let the timer in hand finish (up to `grace_seconds`), then stop; a timer cut
        off stays due, its transaction rolled back."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> int:
        """Fire the timers due now, once; return how many fired."""
        with self._wakeup.after_writes(), line_events.collecting(self._publish):
            return await grace.fire_due(now=self._clock(), limit=self._batch_size)

    async def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                fired = await self.run_once()
                failures = 0
            except Exception as exc:
                # The database is down or a bug: keep the server up and try again, slower.
                failures += 1
                connectivity.log_loop_failure(log, "grace timers", failures, exc)
                fired = 0
                await asyncio.sleep(min(self._poll_interval * 2**failures, 30.0))
            if fired >= self._batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._poll_interval)
