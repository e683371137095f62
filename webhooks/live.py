"""Who watches which line in this process, and telling them when it changes.

A line is one provider's appointments on one day; its version is the sum of its
`line_versions` counters (core.services.line_pages), which only grow. The hub reads
the versions of the lines somebody watches once per poll, in one statement for all
of them, and wakes each watcher of a line whose version moved. `changed` wakes them at
once (after a commit in this process). Readers that render a line share one read per
version (`shared`), however many pages show it.

On PostgreSQL the hub also holds one connection of its own (not the pool's) that
LISTENs on CHANNEL: `publish` (called by an entry point once its work committed, see
core.services.line_events) wakes this process's watchers at once and, coalesced per
line over NOTIFY_TICK, sends one NOTIFY per line for every other process. NOTIFY never
runs inside a booking's transaction: PostgreSQL serialises the commits of transactions
that notified. A lost connection is opened again with backoff, and the watched lines'
versions are read at once (what was sent meanwhile is not heard again); the poll stays
the safety net, and is SQLite's only way across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from core import connectivity
from core.services import sql

log = logging.getLogger(__name__)

Line = tuple[int, date]

DEFAULT_POLL_INTERVAL = 1.0
CHANNEL = "waitlist_lines"
# Seconds the lines changed are gathered before their NOTIFYs go out: a burst of
# changes to one line is one notification.
NOTIFY_TICK = 0.05
# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "waitlist-line-hub"
# Seconds between attempts to open the listening connection again: doubling up to the last.
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)


def _delay(failures: int) -> float:
    return RECONNECT_DELAYS[min(max(failures - 1, 0), len(RECONNECT_DELAYS) - 1)]


def payload_of(line: Line) -> str:
    return f"{line[0]}:{line[1].isoformat()}"


def line_of(payload: str) -> Line | None:
    """The line a notification names; None for a payload not of ours."""
    account, sep, day = payload.partition(":")
    if not sep or not account.isdecimal():
        return None
    try:
        return int(account), date.fromisoformat(day)
    except ValueError:
        return None


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
    def __init__(
        self,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        listen: dict[str, Any] | None = None,
    ) -> None:
        """`listen`: asyncpg connect() arguments of the PostgreSQL database, to LISTEN
        and NOTIFY on; None (SQLite) for in-process wake-ups and the poll only."""
        self._poll_interval = poll_interval
        self._listen = listen
        self._watches: dict[Line, set[Watch]] = {}
        self._versions: dict[Line, int] = {}
        # How many times each watched line's watchers were woken: the pages woken
        # together share one read of the line (key `shared` by it).
        self._wakes: dict[Line, int] = {}
        self._shared: dict[Hashable, asyncio.Future[Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._outgoing: set[Line] = set()
        self._send = asyncio.Event()
        # Set while the listening connection is up (tests wait for it).
        self.listening = asyncio.Event()
        # Set as the server shuts down: open streams end instead of holding it up.
        self.closing = False

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._watches.values())

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._poll(), name="line-hub-poll")
        if self._listen is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listening(), name="line-hub-listen")

    async def stop(self) -> None:
        for task in (self._task, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._listener = None

    def shut(self) -> None:
        """The server is shutting down: wake every watcher, to end its stream."""
        self.closing = True
        for watchers in self._watches.values():
            for watch in watchers:
                watch.nudge()

    def publish(self, lines: Iterable[Line]) -> None:
        """The lines a unit of work changed, once it has committed: this process's
        watchers wake now; on PostgreSQL every other process's are notified."""
        for line in lines:
            self.changed(*line)
            if self._listen is not None:
                self._outgoing.add(line)
        if self._outgoing:
            self._send.set()

    @contextlib.asynccontextmanager
    async def watch(self, account_id: int, day: date) -> AsyncIterator[Watch]:
        watch = self.subscribe((account_id, day))
        try:
            yield watch
        finally:
            self.unsubscribe(watch)

    def subscribe(self, line: Line) -> Watch:
        """A watch of `line` held until `unsubscribe` (for holders that outlive a
        block, such as a cache of the line; pages use `watch`)."""
        watch = Watch(line)
        self._watches.setdefault(line, set()).add(watch)
        return watch

    def unsubscribe(self, watch: Watch) -> None:
        watchers = self._watches.get(watch.line)
        if watchers is not None:
            watchers.discard(watch)
            if not watchers:
                del self._watches[watch.line]
                self._versions.pop(watch.line, None)
                self._wakes.pop(watch.line, None)

    def changed(self, account_id: int, day: date) -> None:
        """Wake this process's watchers of the line (after a commit that changed it)."""
        line = (account_id, day)
        watchers = self._watches.get(line)
        if not watchers:
            return
        self._wakes[line] = self._wakes.get(line, 0) + 1
        for watch in watchers:
            watch.nudge()

    def wakes(self, account_id: int, day: date) -> int:
        """How many times the line's watchers were woken so far (see `shared`)."""
        return self._wakes.get((account_id, day), 0)

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
            await self._poll_once()

    async def _poll_once(self) -> None:
        if not self._watches:
            return
        try:
            versions = await _versions(list(self._watches))
        except Exception as exc:
            if not connectivity.is_outage(exc):
                log.exception("line versions: read failed")
            return
        for line, version in versions.items():
            before = self._versions.get(line)
            self._versions[line] = version
            # A line's first poll wakes its watchers too: a change between a
            # page's first read and this poll would otherwise go unseen.
            if before != version:
                self.changed(*line)

    async def _listening(self) -> None:
        """Hold the LISTEN connection, sending what `publish` gathered; open it again
        with backoff when it is lost."""
        failures = 0
        assert self._listen is not None
        while True:
            try:
                conn = await asyncpg.connect(
                    **self._listen, server_settings={"application_name": APPLICATION_NAME}
                )
            except Exception as exc:
                delay = _delay(failures)
                failures += 1
                log.warning(
                    "line hub: LISTEN connection failed (%s); again in %.1f s",
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            try:
                own_pid = conn.get_server_pid()

                def heard(
                    _: object, pid: int, channel: str, payload: str, own_pid: int = own_pid
                ) -> None:
                    # Our own NOTIFYs woke our watchers when published.
                    line = line_of(payload)
                    if pid != own_pid and line is not None:
                        self.changed(*line)

                await conn.add_listener(CHANNEL, heard)
                # A lost connection wakes the sender at once, to open another.
                conn.add_termination_listener(lambda _: self._send.set())
                if failures:
                    log.info("line hub: LISTEN connection back")
                    # What was notified while it was down is lost: read the versions now.
                    await self._poll_once()
                failures = 0
                self.listening.set()
                await self._sending(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("line hub: LISTEN connection lost (%s)", type(exc).__name__)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=1))
            await asyncio.sleep(_delay(failures))

    async def _sending(self, conn: asyncpg.Connection) -> None:
        """Every NOTIFY_TICK at most, one statement that notifies each line gathered."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._send.wait(), 5.0)
            if conn.is_closed():
                raise ConnectionError("listening connection closed")
            if not self._send.is_set():
                continue
            await asyncio.sleep(NOTIFY_TICK)
            self._send.clear()
            lines, self._outgoing = self._outgoing, set()
            if not lines:
                continue
            try:
                await conn.execute(
                    "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                    CHANNEL,
                    [payload_of(line) for line in sorted(lines)],
                )
            except Exception:
                # Sent again once the connection is back (the poll covers them meanwhile).
                self._outgoing |= lines
                raise


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
