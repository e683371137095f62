"""Inbound deliveries: recorded before any side effect, so a redelivery changes nothing.

A channel records each delivery under its own id (Twilio's MessageSid), answers, and
saves the answer; a redelivery finds the id taken and gets the saved answer again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import Channel, InboundMessage
from core.services import sql
from core.services.statements import bind

RATE_WINDOW = timedelta(minutes=1)

# Records a delivery and, in the same statement, reads the phone's rate window: the
# phone's other messages since {since}, and whether one of them was told to slow down.
# A redelivery (same MessageSid) inserts nothing and returns no row. The subqueries
# leave out the row being inserted (PostgreSQL would not see it, SQLite would). They
# find the window on the (phone, created_at) index and test the channel in FILTER:
# in WHERE, a planner with stale statistics (a young table) ANDs in the unique index
# on (channel, external_id) and reads all of that channel's entries.
_RECORD = """
INSERT INTO inbound_messages (channel, external_id, phone, created_at)
VALUES ({channel}, {sid}, {phone}, {now})
ON CONFLICT (channel, external_id) DO NOTHING
RETURNING id,
  (SELECT COUNT(*) FILTER (WHERE o.channel = {channel}) FROM inbound_messages o
   WHERE o.phone = {phone} AND o.created_at >= {since}
     AND o.id <> inbound_messages.id) AS others,
  (SELECT COUNT(*) FILTER (WHERE o.channel = {channel} AND o.reply = {slow_down})
   FROM inbound_messages o
   WHERE o.phone = {phone} AND o.created_at >= {since}) AS warned
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An inbound message recorded for the first time, and its phone's rate window."""

    id: int
    # The phone's messages in the window, this one included.
    seen_in_window: int
    # Whether one of them was answered with the slow-down reply.
    warned_in_window: bool


async def record(
    *, channel: Channel, external_id: str, phone: str, now: datetime, warning: str
) -> Delivery | None:
    """Record delivery `external_id` from `phone`; None if it was recorded before.

    `warning` is the channel's slow-down reply: the window says whether it was sent.

    The window is read from inbound_messages, which every server process writes, so
    the limit holds across processes and restarts.
    """
    conn = sql.connection()
    values = {
        "channel": channel.value,
        "sid": external_id,
        "phone": phone,
        "now": now,
        "since": now - RATE_WINDOW,
        "slow_down": warning,
    }
    rows = await conn.execute_query_dict(*bind(conn, _RECORD, values))
    if not rows:
        return None
    row = rows[0]
    return Delivery(row["id"], int(row["others"]) + 1, bool(row["warned"]))


_SAVE_REPLY = "UPDATE inbound_messages SET reply = {} WHERE id = {}"


async def save_reply(*, delivery_id: int, reply: str) -> None:
    conn = sql.connection()
    await conn.execute_query(_SAVE_REPLY.format(*sql.params(conn, 2)), [reply, delivery_id])


async def earlier_reply(*, channel: Channel, external_id: str, wait_seconds: float) -> str | None:
    """The reply given to the first delivery of `external_id`, waiting up to
    `wait_seconds` if that delivery is still being answered (a replay racing it)."""
    pause = 0.05
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        earlier = await InboundMessage.get_or_none(channel=channel.value, external_id=external_id)
        if earlier is None or earlier.reply is not None:
            return earlier.reply if earlier else None
        if asyncio.get_running_loop().time() >= deadline:
            # The first delivery died mid-way; its effect, if any, stands. Say nothing
            # rather than act twice.
            return None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)
