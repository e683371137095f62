"""Status pages read from memory while their line stands still.

A status page is asked for far more often than its line changes: a customer leaves it
open, reloads it, shares it. So each process keeps, per line that a page was asked
about, one `LineSnapshot` (core.services.status_links: the provider, the ranking and
each appointment's state, three statements for the whole line), and which line each
link names (a link never changes its appointment, so that read is once per link).
A page is then drawn from memory, with no statement at all.

A snapshot is used only while the line's watch in the hub (webhooks.live) has not been
woken since it was read, and for at most `ttl` seconds. The hub wakes it at once for a
change made in this process and, on PostgreSQL, for one made by any process (NOTIFY);
its version poll wakes it within LINE_POLL_INTERVAL for every other change (SQLite's
other processes, plain SQL). So a page is never older than the live page beside it,
and a quoted wait, which moves with the clock and not only with the line, is read
again within `ttl`. A link whose appointment is not in its line's snapshot (moved to
another day or provider) is read directly, as before this cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.services import status_links
from core.services.line_ranks import RankCache
from core.services.pending_links import PendingLinks
from core.services.status_links import Ended, LineSnapshot, Visit
from webhooks.live import Line, LineHub, Watch

# Seconds a snapshot may serve pages without a change: a quoted wait moves with the
# clock (learned waits by hour, the day's end), so it is read again this often.
DEFAULT_TTL = 10.0
# Seconds a line no page asked about stays held (and read by the hub's version poll).
IDLE = 60.0


@dataclass(slots=True)
class _Held:
    """One line held in memory: its snapshot, and the hub's wake count it was read at."""

    watch: Watch
    snapshot: LineSnapshot | None
    wakes: int
    read_at: float
    used_at: float


class StatusViews:
    """The status pages' reads, per process and database (created with the app)."""

    def __init__(
        self,
        hub: LineHub,
        *,
        ranks: RankCache,
        pending: PendingLinks | None = None,
        ttl: float = DEFAULT_TTL,
        max_lines: int = 2_000,
        max_links: int = 200_000,
        max_drawn: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hub = hub
        self._ranks = ranks
        self._pending = pending
        self._ttl = ttl
        self._max_lines = max_lines
        self._max_links = max_links
        self._clock = clock
        self._lines: OrderedDict[Line, _Held] = OrderedDict()
        self._links: OrderedDict[str, status_links.Link] = OrderedDict()
        # The page last drawn for each link, with the visit it showed.
        self._drawn: OrderedDict[str, tuple[Visit, str]] = OrderedDict()
        self._max_drawn = max_drawn
        self.hits = 0
        self.reads = 0

    async def visit(self, token: str) -> Visit | Ended | None:
        """What `token`'s page shows: as `status_links.visit` would read it now."""
        link = await self._link(token)
        if link is None:
            return None
        snapshot = await self.snapshot(link.account_id, link.day)
        found = snapshot.visit(link.appointment_id) if snapshot is not None else None
        if found is None:
            return await status_links.visit(token=token, ranks=self._ranks)
        return found

    async def fresh(self, token: str) -> Visit | Ended | None:
        """`token`'s visit read now, not from memory (what a form acts on)."""
        key = status_links.key_of(token)
        if key is not None and self._pending is not None:
            await self._pending.settle(key)
        return await status_links.visit(token=token, ranks=self._ranks)

    async def snapshot(self, account_id: int, day: date) -> LineSnapshot | None:
        """The line's snapshot: the one held while its line stands still, else read
        once for every page asking at the same time."""
        line = (account_id, day)
        held = self._lines.get(line)
        now = self._clock()
        if held is not None:
            held.used_at = now
            self._lines.move_to_end(line)
            if held.wakes == self._hub.wakes(*line) and now - held.read_at < self._ttl:
                self.hits += 1
                return held.snapshot
        else:
            held = self._hold(line, now)
        # The wake count before the read: a change committed during it makes the
        # snapshot stale at once, never newer than it claims.
        wakes = self._hub.wakes(*line)
        snapshot = await self._hub.shared(
            ("status-snapshot", *line, wakes),
            lambda: status_links.line_snapshot(account_id=account_id, day=day, ranks=self._ranks),
        )
        self.reads += 1
        if self._lines.get(line) is held:
            held.snapshot, held.wakes, held.read_at = snapshot, wakes, now
        found: LineSnapshot | None = snapshot
        return found

    async def _link(self, token: str) -> status_links.Link | None:
        key = status_links.key_of(token)
        if key is None:
            return None
        link = self._links.get(key)
        if link is not None:
            self._links.move_to_end(key)
            return link
        link = await status_links.link(key=key)
        if link is None and self._pending is not None and key in self._pending:
            # Given in an answer a moment ago, not written yet: once it is.
            await self._pending.settle(key)
            link = await status_links.link(key=key)
        if link is not None:
            self._links[key] = link
            if len(self._links) > self._max_links:
                self._links.popitem(last=False)
        return link

    def drawn(self, token: str, visit: Visit) -> str | None:
        """The page drawn for `token` when it showed `visit` exactly, else None: the
        same visit draws the same page, and drawing costs more than the whole read."""
        key = status_links.key_of(token)
        found = self._drawn.get(key) if key is not None else None
        if found is None or found[0] != visit:
            return None
        self._drawn.move_to_end(key)  # type: ignore[arg-type]
        return found[1]

    def keep_drawn(self, token: str, visit: Visit, html: str) -> None:
        key = status_links.key_of(token)
        if key is None:
            return
        self._drawn[key] = (visit, html)
        self._drawn.move_to_end(key)
        if len(self._drawn) > self._max_drawn:
            self._drawn.popitem(last=False)

    def _hold(self, line: Line, now: float) -> _Held:
        # Least recently used first: drop the idle ones, and the oldest past the bound.
        while self._lines:
            oldest = next(iter(self._lines.values()))
            if len(self._lines) < self._max_lines and now - oldest.used_at < IDLE:
                break
            self._lines.popitem(last=False)
            self._hub.unsubscribe(oldest.watch)
        held = _Held(
            watch=self._hub.subscribe(line), snapshot=None, wakes=-1, read_at=now, used_at=now
        )
        self._lines[line] = held
        return held

    def close(self) -> None:
        """Let go of every line's watch (the app is stopping)."""
        for held in self._lines.values():
            self._hub.unsubscribe(held.watch)
        self._lines.clear()
        self._links.clear()
        self._drawn.clear()
