"""Who prunes, and when: one process at a time, once per interval across all of them.

On PostgreSQL a session advisory lock, taken with pg_try_advisory_lock on a connection
of its own (the pools' connections are shared and reset), elects the process; under
it, the last run recorded in `prune_runs` says whether a run is due, so several
processes that each look every few minutes still prune once per interval. SQLite has
one process, which needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core import connectivity
from core.models import PruneRun
from core.rules import retention
from core.rules.days import utcnow
from core.services import pruning

log = logging.getLogger(__name__)

# "waitlist" in ASCII: the advisory lock key only prunes take.
LOCK_KEY = 0x77616974_6C697374
# How often each process looks whether a prune is due (at most).
LOOK_EVERY = 300.0


class Busy(Exception):
    """Another process holds the prune lock."""


@contextlib.asynccontextmanager
async def elected(lock: dict[str, Any] | None) -> AsyncIterator[None]:
    """Hold the prune lock for the block; Busy if another process holds it.

    `lock`: asyncpg connect() arguments (core.db.listen_params), None on SQLite.
    """
    if lock is None:
        yield
        return
    conn = await asyncpg.connect(**lock)
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            raise Busy("another process is pruning")
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def last_finished() -> datetime | None:
    run = await PruneRun.filter(finished_at__isnull=False).order_by("-id").first()
    return run.finished_at if run else None


async def prune_if_due(
    *,
    keep: retention.Retention,
    interval: float,
    lock: dict[str, Any] | None,
    now: datetime | None = None,
    pacing: pruning.Pacing = pruning.NO_PAUSE,
) -> dict[str, pruning.Swept] | None:
    """Prune when no run finished in the last `interval` seconds and no other process
    is pruning; return what went, or None when nothing ran."""
    moment = now or utcnow()
    try:
        async with elected(lock):
            last = await last_finished()
            if last is not None and moment - last < timedelta(seconds=interval):
                return None
            return await pruning.prune(keep=keep, now=moment, pacing=pacing)
    except Busy:
        return None


class PruneWorker:
    """Looks every min(interval, LOOK_EVERY) seconds, the first time that long after it
    starts, and prunes when due (prune_if_due)."""

    def __init__(
        self,
        *,
        keep: retention.Retention,
        interval: float,
        lock: dict[str, Any] | None,
        clock: Callable[[], datetime] = utcnow,
        pacing: pruning.Pacing = pruning.NO_PAUSE,
    ) -> None:
        self._keep = keep
        self._pacing = pacing
        self._interval = interval
        self._lock = lock
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._interval > 0:
            self._task = asyncio.create_task(self._loop(), name="prune-worker")

    async def stop(self) -> None:
        """Stop at once: a batch cut off rolls back, and the next run does it again."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        failures = 0
        while True:
            # First wait, then look: a process that starts is busy enough, and a burst
            # of restarts then prunes no sooner than a process that stays up.
            await asyncio.sleep(min(self._interval, LOOK_EVERY))
            try:
                await prune_if_due(
                    keep=self._keep,
                    interval=self._interval,
                    lock=self._lock,
                    now=self._clock(),
                    pacing=self._pacing,
                )
                failures = 0
            except Exception as exc:
                failures += 1
                connectivity.log_loop_failure(log, "prune", failures, exc)
