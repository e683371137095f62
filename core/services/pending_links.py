"""Status links given in answers but not stored yet, written in batches after the answer.

A STATUS by text gives a fresh link each time. Written one by one, the link was a
statement of its own on the SMS path; the inbound path's writer
(core.services.deliveries.PendingReplies) writes the links an entry point gathered
(`deferred`) with its replies instead, a batch in one statement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tortoise.transactions import in_transaction

from core.services import sql

_INSERT_LINKS_POSTGRES = """
INSERT INTO status_links (token_hash, appointment_id, day, created_at)
SELECT v.digest, v.appointment, v.day, v.at
FROM unnest($1::text[], $2::int[], $3::date[], $4::timestamptz[]) AS v(digest, appointment, day, at)
JOIN appointments a ON a.id = v.appointment
"""
_INSERT_LINK_SQLITE = """
INSERT INTO status_links (token_hash, appointment_id, day, created_at)
SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM appointments WHERE id = ?)
"""


@dataclass(frozen=True, slots=True)
class Issued:
    """A link given: the appointment it names, its day, when it was given."""

    appointment_id: int
    day: date
    at: datetime


class PendingLinks:
    """Links given in answers but not stored yet, written in batches after the answer
    (the inbound path's writer, core.services.deliveries.PendingReplies, writes them
    with its replies): a STATUS by text then costs its link no statement of its own.

    A link is asked for seconds after its text goes out, if ever, and a page asked for
    in this process before its link is written waits for the write (`settle`). A crash
    loses the links not yet written: their pages say "Text STATUS for a new one".
    """

    def __init__(self) -> None:
        self._issued: dict[str, Issued] = {}
        self._writing: dict[str, Issued] = {}
        self._one_writer = asyncio.Lock()
        self._added: Callable[[], None] = lambda: None

    def on_add(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever a link is added (the writer's wake-up)."""
        self._added = wake

    def add(self, digest: str, issued: Issued) -> None:
        self._issued[digest] = issued
        self._added()

    def __contains__(self, digest: object) -> bool:
        return digest in self._issued or digest in self._writing

    def __len__(self) -> int:
        return len(self._issued) + len(self._writing)

    async def write(self) -> None:
        """Store every link given so far; on failure they stay pending."""
        async with self._one_writer:
            self._writing, self._issued = self._issued, {}
            try:
                await _insert_links(self._writing)
            except BaseException:
                self._issued = {**self._writing, **self._issued}
                raise
            finally:
                self._writing = {}

    async def settle(self, digest: str) -> None:
        """Return once the link stored under `digest`, if pending, is written."""
        if digest in self:
            await self.write()


async def _insert_links(links: dict[str, Issued]) -> None:
    if not links:
        return
    conn = sql.deliveries()
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            _INSERT_LINKS_POSTGRES,
            [
                list(links),
                [i.appointment_id for i in links.values()],
                [i.day for i in links.values()],
                [i.at for i in links.values()],
            ],
        )
        return
    # As core.services.deliveries.save_replies: one transaction on SQLite's connection.
    async with in_transaction("default") as tx:
        for digest, i in links.items():
            await tx.execute_query(
                _INSERT_LINK_SQLITE,
                [digest, i.appointment_id, i.day.isoformat(), str(i.at.astimezone(UTC)), i.appointment_id],
            )


# Where core.services.status_links.issue puts links while an entry point defers them.
_DEFERRED: ContextVar[PendingLinks | None] = ContextVar("deferred_links", default=None)


@contextlib.contextmanager
def deferred(pending: PendingLinks | None) -> Iterator[None]:
    """Links issued in the block go to `pending`, to be written after the answer."""
    token = _DEFERRED.set(pending)
    try:
        yield
    finally:
        _DEFERRED.reset(token)




def deferred_to() -> PendingLinks | None:
    """Where links issued now go, when an entry point defers them."""
    return _DEFERRED.get()
