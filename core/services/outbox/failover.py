"""A second channel for a message that failed for good on the recipient's own.

A message that cannot reach its recipient on its channel (a blocked Telegram bot,
WhatsApp outside its window, Twilio's undeliverable report for WhatsApp) is moved,
once, to the fallback channel (SMS) when the phone can take an SMS: the same outbox
row, pending again on SMS, with the channel it failed on in `failed_over_from` and why
in `last_error`. Being the same row, it keeps its idempotency key, so the notice goes
out once on SMS whoever moves it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.phones import mask_phone
from core.services import contacts
from core.services.outbox.wakeup import note_written

log = logging.getLogger(__name__)


async def fail_over(
    *,
    message: OutboxMessage,
    reason: str,
    to: Channel | None,
    now: datetime,
    claimed: bool = True,
) -> bool:
    """Move `message` to channel `to` (None: no fallback) after `reason`; False when it
    stays where it is (no fallback, already moved, on `to` already, or the phone cannot
    take it there). `claimed`: the caller holds the message's claim (the dispatcher),
    so the move is conditional on it; otherwise (a delivery report for a message sent)
    on its being sent."""
    if to is None or message.failed_over_from is not None or message.channel == to.value:
        return False
    if to is Channel.SMS and not await contacts.sms_possible(phone=message.recipient):
        return False
    rows = OutboxMessage.filter(id=message.id, failed_over_from__isnull=True)
    rows = (
        rows.filter(attempts=message.attempts) if claimed else rows.filter(status=OutboxStatus.SENT)
    )
    moved = await rows.update(
        channel=to.value,
        failed_over_from=message.channel,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        last_error=f"{message.channel}: {reason}"[:1000],
        sending_started_at=None,
        external_id=None,
        delivery_status=None,
    )
    if not moved:
        return False
    log.info(
        "outbox %s to %s: %s failed (%s); sending by %s",
        message.id, mask_phone(message.recipient), message.channel, reason, to.value,
    )
    note_written()
    return True
