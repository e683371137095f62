"""What an inbound message writes first, one statement each: the delivery with its
phone's rate window, and the channel the phone last wrote from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import Channel, Contact, InboundMessage
from core.services import contacts
from core.services.inbound import RATE_WINDOW
from core.services.inbound import record as record_any
from webhooks.sms import replies as sms_replies

NOW = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
ANN, BOB = "+14155550101", "+14155550102"


async def test_the_channel_is_recorded_and_rewritten_only_when_it_changes(orm):
    await contacts.record_channel(phone=ANN, channel=Channel.SMS, now=NOW)
    first = await Contact.get(phone=ANN)
    assert (first.preferred_channel, first.opted_out) == ("sms", False)

    await contacts.set_opted_out(phone=ANN, opted_out=True, now=NOW)
    before = await Contact.get(phone=ANN)
    await contacts.record_channel(phone=ANN, channel=Channel.SMS, now=NOW + timedelta(hours=1))
    same = await Contact.get(phone=ANN)
    assert same.updated_at == before.updated_at

    await contacts.record_channel(phone=ANN, channel=Channel.TELEGRAM, now=NOW + timedelta(hours=2))
    changed = await Contact.get(phone=ANN)
    assert changed.preferred_channel == "telegram"
    assert changed.opted_out
    assert changed.updated_at == NOW + timedelta(hours=2)
    assert await Contact.all().count() == 1


async def test_a_delivery_is_recorded_once_with_its_phones_rate_window(orm):
    def sid(n: int) -> str:
        return f"SM{n:032d}"

    first = await record_delivery(sid=sid(1), phone=ANN, now=NOW)
    assert first is not None
    assert (first.seen_in_window, first.warned_in_window) == (1, False)
    assert await record_delivery(sid=sid(1), phone=ANN, now=NOW) is None
    assert await InboundMessage.filter(external_id=sid(1)).count() == 1

    # Not in Ann's window: another phone, another channel, a message a minute old.
    await record_delivery(sid=sid(2), phone=BOB, now=NOW)
    await InboundMessage.create(channel="telegram", external_id=sid(3), phone=ANN)
    old = await record_delivery(sid=sid(4), phone=ANN, now=NOW)
    assert old is not None
    await InboundMessage.filter(id=old.id).update(
        created_at=NOW - RATE_WINDOW - timedelta(seconds=1), reply=sms_replies.SLOW_DOWN
    )

    second = await record_delivery(sid=sid(5), phone=ANN, now=NOW + timedelta(seconds=1))
    assert second is not None
    assert (second.seen_in_window, second.warned_in_window) == (2, False)

    await InboundMessage.filter(id=second.id).update(reply=sms_replies.SLOW_DOWN)
    third = await record_delivery(sid=sid(6), phone=ANN, now=NOW + timedelta(seconds=2))
    assert third is not None
    assert (third.seen_in_window, third.warned_in_window) == (3, True)


async def record_delivery(*, sid: str, phone: str, now):
    return await record_any(
        channel=Channel.SMS, external_id=sid, phone=phone, now=now, warning=sms_replies.SLOW_DOWN
    )
