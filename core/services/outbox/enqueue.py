"""Writing a proactive message into the outbox, in the transaction of the change that
caused it. The writer's entry point wakes the dispatcher once that transaction has
committed (Wakeup.after_writes, which counts what enqueue writes); the dispatcher's
poll finds it otherwise."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Channel, OutboxMessage, OutboxStatus
from core.services import contacts
from core.services.outbox.wakeup import note_written

# A phone that never wrote to us (a walk-in, a booking through the admin API) is
# reached by SMS: a phone number is all we know about it.
DEFAULT_CHANNEL = Channel.SMS


async def enqueue(
    *,
    conn: BaseDBAsyncClient,
    recipient: str,
    text: str,
    idempotency_key: str,
    now: datetime,
    service_account_id: int | None = None,
) -> None:
    """Write one message unless one with this key exists (so a notice goes out once).

    `service_account_id` is the provider whose line the message is about (its STATS
    count it); None for messages about no one line (a reply, a sign-in code)."""
    channel = await contacts.preferred_channel(phone=recipient, using_db=conn) or DEFAULT_CHANNEL
    message = OutboxMessage(
        channel=channel.value,
        recipient=recipient,
        text=text,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        idempotency_key=idempotency_key,
        service_account_id=service_account_id,
    )
    # ON CONFLICT DO NOTHING: a failed INSERT would abort the caller's PostgreSQL transaction.
    await OutboxMessage.bulk_create([message], ignore_conflicts=True, using_db=conn)
    note_written()
