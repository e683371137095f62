"""Inbound deliveries: recorded before any side effect, so a redelivery changes nothing.

Every channel records each delivery under its own id (Twilio's MessageSid, Telegram's
update_id), with its phone's count in the flood limit's window; the answer is saved in
batches (PendingReplies), and a redelivery finds the id taken and can get the saved
answer again (`earlier_reply`). The one inbound path (bot.inbox) does all of this for
the messages the engine answers; `record_once` records the other deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.models import Channel, InboundMessage
from core.services import correspondents, sql
from core.services.line_ranks import RankCache
from core.services.pending_links import PendingLinks
from core.services.statements import bind

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)

# A delivery is recorded, and its phone's window counter bumped, in one statement on
# PostgreSQL. A redelivery (same MessageSid) inserts nothing, bumps nothing and returns
# no row. The counter restarts when its window is a minute old; the SET expressions
# all read the row as it was, so `seen` and `window_start` restart together.
_DELIVERY = """
INSERT INTO inbound_messages (channel, external_id, phone, created_at)
VALUES ({channel}, {sid}, {phone}, {now})
ON CONFLICT (channel, external_id) DO NOTHING
RETURNING id
"""
_BUMP = """
INSERT INTO inbound_rates (channel, phone, window_start, seen)
{source}
ON CONFLICT (channel, phone) DO UPDATE SET
  seen = CASE WHEN inbound_rates.window_start > {since} THEN inbound_rates.seen + 1 ELSE 1 END,
  window_start = CASE WHEN inbound_rates.window_start > {since}
                      THEN inbound_rates.window_start ELSE {now} END
RETURNING seen
"""
# Built from constants only; values are bound parameters.
_RECORD_CTES = (
    f"delivery AS ({_DELIVERY}), rate AS ("  # noqa: S608
    + _BUMP.format(
        source="SELECT {channel}, {phone}, {now}, 1 FROM delivery",
        since="{rate_since}",
        now="{now}",
    )
    + "),"
)
_RECORD_POSTGRES = (
    f"WITH {_RECORD_CTES.rstrip(',')}\n"
    "SELECT delivery.id, rate.seen FROM delivery, rate"
)
# SQLite has no data-modifying WITH: there the two statements share a transaction.
_BUMP_SQLITE = _BUMP.format(
    source="VALUES ({channel}, {phone}, {now}, 1)", since="{rate_since}", now="{now}"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """An inbound message recorded for the first time, and its phone's window count."""

    id: int
    # The phone's messages in its current window, this one included.
    seen_in_window: int


def _record_values(
    conn: BaseDBAsyncClient, *, channel: Channel, external_id: str, phone: str, now: datetime
) -> dict[str, Any]:
    return {
        "channel": channel.value,
        "sid": external_id,
        "phone": phone,
        "now": sql.datetime_param(conn, now),
        "rate_since": sql.datetime_param(conn, now - RATE_WINDOW),
    }


async def record(
    *, channel: Channel, external_id: str, phone: str, now: datetime
) -> Delivery | None:
    """Record delivery `external_id` from `phone`; None if it was recorded before.

    The window counter lives in the database, which every server process writes, so
    the limit holds across processes and restarts.
    """
    conn = sql.deliveries()
    values = _record_values(conn, channel=channel, external_id=external_id, phone=phone, now=now)
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(*bind(conn, _RECORD_POSTGRES, values))
        return Delivery(rows[0]["id"], rows[0]["seen"]) if rows else None
    async with in_transaction("default") as tx:
        inserted = await tx.execute_query_dict(*bind(tx, _DELIVERY, values))
        if not inserted:
            return None
        bumped = await tx.execute_query_dict(*bind(tx, _BUMP_SQLITE, values))
    return Delivery(inserted[0]["id"], bumped[0]["seen"])


async def record_once(*, channel: Channel, external_id: str, now: datetime) -> bool:
    """Record delivery `external_id`, one no flood limit applies to (a button that only
    opens a picker, a chat's blocked notice); False if it was recorded before."""
    conn = sql.deliveries()
    values = {
        "channel": channel.value,
        "sid": external_id,
        "phone": None,
        "now": sql.datetime_param(conn, now),
    }
    return bool(await conn.execute_query_dict(*bind(conn, _DELIVERY, values)))


async def record_and_identify(
    *,
    channel: Channel,
    external_id: str,
    phone: str,
    now: datetime,
    with_standings: bool,
    with_in_line: bool = False,
    ranks: RankCache | None = None,
) -> tuple[Delivery, correspondents.Correspondent] | None:
    """`record`, and who is writing (core.services.correspondents.identify, with the same
    `with_standings`, `with_in_line` and `ranks`) as of that moment.

    On PostgreSQL both are one statement, so an answer from the database costs one
    round trip; a redelivery reads nothing and gets None.
    """
    conn = sql.deliveries()
    if conn.capabilities.dialect != "postgres":
        delivery = await record(channel=channel, external_id=external_id, phone=phone, now=now)
        if delivery is None:
            return None
        who = await correspondents.identify(
            channel=channel,
            phone=phone,
            now=now,
            with_standings=with_standings,
            with_in_line=with_in_line,
            ranks=ranks,
        )
        return delivery, who
    statement = correspondents.who_statement(
        with_standings=with_standings,
        with_in_line=with_in_line,
        ctes=_RECORD_CTES,
        source="delivery JOIN rate ON TRUE",
        columns="delivery.id AS delivery_id, rate.seen AS delivery_seen",
    )
    values = {
        **_record_values(conn, channel=channel, external_id=external_id, phone=phone, now=now),
        **correspondents.who_values(
            conn,
            channel=channel,
            phone=phone,
            now=now,
            with_standings=with_standings,
            with_in_line=with_in_line,
        ),
    }
    rows = await conn.execute_query_dict(*bind(conn, statement, values))
    if not rows:
        return None
    delivery = Delivery(rows[0]["delivery_id"], rows[0]["delivery_seen"])
    who = await correspondents.correspondent_from(
        rows,
        phone=phone,
        now=now,
        with_standings=with_standings,
        with_in_line=with_in_line,
        ranks=ranks,
    )
    return delivery, who


_SAVE_REPLIES_POSTGRES = """
UPDATE inbound_messages AS m SET reply = v.reply
FROM unnest($1::int[], $2::text[]) AS v(id, reply)
WHERE m.id = v.id
"""
_SAVE_REPLY_SQLITE = "UPDATE inbound_messages SET reply = ? WHERE id = ?"


async def save_replies(replies: dict[int, str]) -> None:
    """Store replies to recorded deliveries (by delivery id): one statement on PostgreSQL,
    one transaction on SQLite."""
    if not replies:
        return
    conn = sql.deliveries()
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(_SAVE_REPLIES_POSTGRES, [list(replies), list(replies.values())])
        return
    # Tortoise's execute_many opens a transaction beside the ones in_transaction holds
    # on SQLite's single connection, and SQLite refuses one inside another.
    async with in_transaction("default") as tx:
        for id_, reply in replies.items():
            await tx.execute_query(_SAVE_REPLY_SQLITE, [reply, id_])


class PendingReplies:
    """Replies given but not yet stored, written in batches after the answer has gone.

    A stored reply is read again only when the same delivery comes back (a Twilio retry,
    a replayed request), seconds later if ever, and this process answers such a
    redelivery from memory until the reply is written (see `earlier_reply`). Writing
    the replies that gathered while the previous batch was written, in one statement,
    takes a round trip off every answer. A crash loses the replies not yet written: a
    redelivery of one of those messages gets no answer, as it gets none when the
    process dies while answering.
    """

    def __init__(self, *, links: PendingLinks | None = None) -> None:
        self._replies: dict[int, str] = {}
        self._writing: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._one_writer = asyncio.Lock()
        self._stopping = False
        # The status links the answers gave, written with the replies' batches.
        self.links = links if links is not None else PendingLinks()
        self.links.on_add(self._wake.set)

    def add(self, delivery_id: int, reply: str) -> None:
        self._replies[delivery_id] = reply
        self._wake.set()

    def get(self, delivery_id: int) -> str | None:
        return self._replies.get(delivery_id, self._writing.get(delivery_id))

    def __len__(self) -> int:
        return len(self._replies) + len(self._writing) + len(self.links)

    async def write(self) -> None:
        """Store every reply and link given so far; on failure they stay pending."""
        async with self._one_writer:
            self._writing, self._replies = self._replies, {}
            try:
                await save_replies(self._writing)
            except BaseException:
                self._replies = {**self._writing, **self._replies}
                raise
            finally:
                self._writing = {}
        await self.links.write()

    def stop(self) -> None:
        """Ask `run` to write what is pending and return."""
        self._stopping = True
        self._wake.set()

    @contextlib.asynccontextmanager
    async def writing(self, *, stop_within: float = 10.0) -> AsyncIterator[PendingReplies]:
        """Write batches in a task of its own while the block runs; on leaving, write the
        last one, waiting up to `stop_within` seconds for the database."""
        writer = asyncio.create_task(self.run(), name="inbound-replies")
        try:
            yield self
        finally:
            self.stop()
            try:
                await asyncio.wait_for(writer, stop_within)
            except TimeoutError:
                log.error(
                    "%d replies (and status links) to inbound messages not stored at shutdown: "
                    "the database did not answer",
                    len(self),
                )

    async def run(self, *, retry_after: float = 1.0) -> None:
        """Write batches as replies come, until `stop`, which writes the last one.

        Stopping is asked for, never forced by cancelling: a write cancelled inside
        its transaction can leave SQLite's connection lock held, and the last write
        would then wait for it forever.
        """
        while True:
            await self._wake.wait()
            self._wake.clear()
            stopping = self._stopping
            try:
                await self.write()
            except Exception:
                log.exception("%d replies (and status links) to inbound messages not stored", len(self))
                if stopping:
                    return
                await asyncio.sleep(retry_after)
                self._wake.set()
                continue
            if stopping:
                return


async def earlier_reply(
    *, channel: Channel, external_id: str, wait_seconds: float, pending: PendingReplies
) -> str | None:
    """The reply given to the first delivery of `external_id`, waiting up to
    `wait_seconds` if that delivery is still being answered (a replay racing it).

    `pending` holds this process's replies not stored yet."""
    pause = 0.05
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        earlier = await InboundMessage.get_or_none(channel=channel.value, external_id=external_id)
        if earlier is None or earlier.reply is not None:
            return earlier.reply if earlier else None
        given = pending.get(earlier.id)
        if given is not None:
            return given
        if asyncio.get_running_loop().time() >= deadline:
            # The first delivery died mid-way; its effect, if any, stands. Say nothing
            # rather than act twice.
            return None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)
