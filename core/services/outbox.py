"""The outbox: proactive messages written in the transaction of the change that caused them.

The dispatcher (bot.dispatcher) delivers them. Writers in this process call `wake()`
after their transaction commits so a message leaves without waiting for the next poll.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Channel, OutboxMessage, OutboxStatus
from core.services import contacts

# A phone that never wrote to us (a walk-in, a booking through the admin API) is
# reached by SMS: a phone number is all we know about it.
DEFAULT_CHANNEL = Channel.SMS

_wakers: set[asyncio.Event] = set()


def subscribe() -> asyncio.Event:
    event = asyncio.Event()
    _wakers.add(event)
    return event


def unsubscribe(event: asyncio.Event) -> None:
    _wakers.discard(event)


def wake() -> None:
    """Tell this process's dispatchers that new messages are due."""
    for event in tuple(_wakers):
        event.set()


async def enqueue(
    *,
    conn: BaseDBAsyncClient,
    recipient: str,
    text: str,
    idempotency_key: str,
    now: datetime,
) -> None:
    """Write one message unless one with this key exists (so a notice goes out once)."""
    channel = await contacts.preferred_channel(phone=recipient, using_db=conn) or DEFAULT_CHANNEL
    message = OutboxMessage(
        channel=channel.value,
        recipient=recipient,
        text=text,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        idempotency_key=idempotency_key,
    )
    # ON CONFLICT DO NOTHING: a failed INSERT would abort the caller's PostgreSQL transaction.
    await OutboxMessage.bulk_create([message], ignore_conflicts=True, using_db=conn)
