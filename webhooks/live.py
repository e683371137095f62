"""Who watches which line in this process, and telling them when it changes.

A line is one provider's appointments on one day; its version is the sum of its
`line_versions` counters (core.services.line_pages), which only grow. The hub reads
the versions of the lines somebody watches once per poll, in one statement for all
of them, and wakes each watcher of a line whose version moved. `changed` wakes them at
once (after a commit in this process). Readers that render a line share one read per
version (`shared`), however many pages show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core import connectivity
from core.services import sql

log = logging.getLogger(__name__)

Line = tuple[int, date]

DEFAULT_POLL_INTERVAL = 1.0


@dataclass(eq=False)
class Watch:
    """One page's view of one line: `wait` returns when the line may have changed."""

    line: Line
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def nudge(self) -> None:
        self._event.set()

    async def wait(self, seconds: float | None = None) -> bool:
        """True when nudged (and re-armed), False after `seconds` without."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class LineHub:
    def __init__(self, *, poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        self._poll_interval = poll_interval
        self._watches: dict[Line, set[Watch]] = {}
        self._versions: dict[Line, int] = {}
        self._shared: dict[Hashable, asyncio.Future[Any]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._watches.values())

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._poll(), name="line-hub-poll")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def watch(self, account_id: int, day: date) -> AsyncIterator[Watch]:
        line = (account_id, day)
        watch = Watch(line)
        self._watches.setdefault(line, set()).add(watch)
        try:
            yield watch
        finally:
            watchers = self._watches.get(line)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[line]
                    self._versions.pop(line, None)

    def changed(self, account_id: int, day: date) -> None:
        """Wake this process's watchers of the line (after a commit that changed it)."""
        for watch in self._watches.get((account_id, day), ()):
            watch.nudge()

    async def shared(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """`load()`, run once for every caller asking with the same `key` while it runs
        (key it by line and version: one read of a changed line for all its pages)."""
        pending = self._shared.get(key)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._shared[key] = pending
            pending.add_done_callback(lambda _: self._shared.pop(key, None))
        return await asyncio.shield(pending)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            if not self._watches:
                continue
            try:
                versions = await _versions(list(self._watches))
            except Exception as exc:
                if not connectivity.is_outage(exc):
                    log.exception("line versions: read failed")
                continue
            for line, version in versions.items():
                before = self._versions.get(line)
                self._versions[line] = version
                # A line's first poll wakes its watchers too: a change between a
                # page's first read and this poll would otherwise go unseen.
                if before != version:
                    self.changed(*line)


async def _versions(lines: list[Line]) -> dict[Line, int]:
    """The versions of `lines`, in one statement (lines without counters are 0)."""
    conn = sql.connection()
    accounts = sorted({a for a, _ in lines})
    days = sorted({d for _, d in lines})
    marks = sql.params(conn, len(accounts) + len(days))
    query = (
        "SELECT service_account_id, day, SUM(n) AS version FROM line_versions "  # noqa: S608 - placeholders only; values are bound
        f"WHERE service_account_id IN ({', '.join(marks[: len(accounts)])}) "
        f"AND day IN ({', '.join(marks[len(accounts) :])}) "
        "GROUP BY service_account_id, day"
    )
    rows = await conn.execute_query_dict(
        query, [*accounts, *(sql.day_param(conn, d) for d in days)]
    )
    found = {(int(r["service_account_id"]), sql.as_date(r["day"])): int(r["version"]) for r in rows}
    return {line: found.get(line, 0) for line in lines}
