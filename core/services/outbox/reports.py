"""Delivery reports: what a channel says became of a message after it accepted it."""

from __future__ import annotations

from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.days import utcnow
from core.rules.delivery import supersedes
from core.services import contacts
from core.services.outbox import failover

_FAILED = frozenset({"failed", "undelivered"})


async def record_delivery_report(
    *,
    external_id: str,
    state: str,
    error: str | None,
    key: str | None,
    recipient_opted_out: bool,
    channel: Channel = Channel.SMS,
    recipient_unreachable: bool = False,
    fallback: Channel | None = None,
) -> None:
    """A channel's delivery report (Twilio's status callback) for a message we sent.

    `key` is the idempotency key the channel echoes back, `channel` the one the report
    is about; `recipient_opted_out` means
    the carrier refused the message because the recipient opted out there, and
    `recipient_unreachable` that the number cannot take an SMS at all. A failed message
    moves once to `fallback` (core.services.outbox.failover) unless it was already on it.
    """
    sid = external_id
    messages = OutboxMessage.filter(external_id=sid)
    if key and not await messages.exists():
        # The sending process may have died between Twilio accepting the message and
        # recording its sid: the key in the callback URL still finds the row, if it is
        # still on the report's channel (a notice moved to SMS since is another send).
        messages = OutboxMessage.filter(idempotency_key=key, channel=channel.value)
        await messages.filter(external_id__isnull=True).update(external_id=sid)
        messages = messages.filter(external_id=sid)
    now = utcnow()
    # Any report at all means Twilio has the message: a row still pending (its sender
    # died mid-send) is sent, and must not go out again when its lease runs out.
    await messages.filter(status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENT, sent_at=now, sending_started_at=None
    )
    # Reports can arrive out of order: a later stage is never overwritten by an earlier.
    for row_id, recorded in await messages.values_list("id", "delivery_status"):
        if supersedes(state, recorded):
            changes: dict[str, object] = {"delivery_status": state[:16]}
            if state == "delivered":
                changes["delivered_at"] = now
            await OutboxMessage.filter(id=row_id).update(**changes)
    if state not in _FAILED:
        return
    reason = f"carrier: {state}" + (f" (error {error})" if error else "")
    for message in await messages:
        if recipient_opted_out:
            await contacts.set_opted_out(phone=message.recipient, opted_out=True)
        elif recipient_unreachable and message.channel == Channel.SMS.value:
            await contacts.set_sms_undeliverable(phone=message.recipient)
        if message.status == OutboxStatus.SENT and not recipient_opted_out and (
            await failover.fail_over(
                message=message, reason=reason, to=fallback, now=now, claimed=False
            )
        ):
            continue
        await OutboxMessage.filter(id=message.id).update(
            status=OutboxStatus.FAILED, last_error=reason
        )
