"""What an inbound message writes first: the delivery with its phone's window count,
and the channel the phone last wrote from."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Channel, Contact, InboundMessage, InboundRate
from core.services import contacts, sql
from core.services.deliveries import RATE_WINDOW, Delivery, PendingReplies, earlier_reply
from core.services.deliveries import record as record_any
from tests.conftest import ON_POSTGRES

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


async def test_a_delivery_is_recorded_once_and_counted_in_its_phones_window(orm):
    def sid(n: int) -> str:
        return f"SM{n:032d}"

    assert seen(await record_delivery(sid=sid(1), phone=ANN, now=NOW)) == 1
    assert await record_delivery(sid=sid(1), phone=ANN, now=NOW) is None
    assert await InboundMessage.filter(external_id=sid(1)).count() == 1

    # Another phone has a window of its own.
    assert seen(await record_delivery(sid=sid(2), phone=BOB, now=NOW)) == 1

    assert seen(await record_delivery(sid=sid(3), phone=ANN, now=NOW + timedelta(seconds=59))) == 2

    # A minute after the window opened, it opens again from this message.
    later = NOW + RATE_WINDOW + timedelta(seconds=1)
    assert seen(await record_delivery(sid=sid(4), phone=ANN, now=later)) == 1
    assert (
        seen(await record_delivery(sid=sid(5), phone=ANN, now=later + timedelta(seconds=30))) == 2
    )
    rate = await InboundRate.get(channel="sms", phone=ANN)
    assert (rate.window_start, rate.seen) == (later, 2)


async def test_concurrent_messages_from_one_phone_are_each_counted_once(orm):
    sids = [f"SM{n:032d}" for n in range(12)]
    recorded = await asyncio.gather(
        *(record_delivery(sid=sid, phone=ANN, now=NOW) for sid in sids),
        record_delivery(sid=sids[0], phone=ANN, now=NOW),
    )

    counts = sorted(d.seen_in_window for d in recorded if d is not None)
    assert counts == list(range(1, 13))
    assert await InboundMessage.filter(phone=ANN).count() == 12


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite keeps one connection for everything")
async def test_deliveries_are_recorded_without_waiting_for_the_disk_and_effects_still_wait(orm):
    async def setting(conn: BaseDBAsyncClient) -> str:
        rows = await conn.execute_query_dict("SHOW synchronous_commit")
        return str(rows[0]["synchronous_commit"])

    assert await setting(sql.deliveries()) == "off"
    assert await setting(sql.connection()) == "on"


def seen(delivery: Delivery | None) -> int:
    assert delivery is not None
    return delivery.seen_in_window


async def record_delivery(*, sid: str, phone: str, now: datetime) -> Delivery | None:
    return await record_any(channel=Channel.SMS, external_id=sid, phone=phone, now=now)


async def test_a_reply_waiting_for_its_batch_answers_a_redelivery_and_is_then_stored(orm):
    delivery = await record_delivery(sid="SM1", phone=ANN, now=NOW)
    assert delivery is not None
    pending = PendingReplies()
    pending.add(delivery.id, "You are #2 in line.")

    assert (await InboundMessage.get(id=delivery.id)).reply is None
    assert await earlier("SM1", pending) == "You are #2 in line."

    await pending.write()
    assert len(pending) == 0
    assert (await InboundMessage.get(id=delivery.id)).reply == "You are #2 in line."
    assert await earlier("SM1", PendingReplies()) == "You are #2 in line."


async def test_replies_given_together_are_stored_in_one_batch_each_to_its_delivery(orm):
    deliveries = [
        await record_delivery(sid=f"SM{n}", phone=phone, now=NOW)
        for n, phone in enumerate((ANN, BOB, ANN))
    ]
    pending = PendingReplies()
    for n, delivery in enumerate(deliveries):
        assert delivery is not None
        pending.add(delivery.id, f"reply {n} — ça marche")

    await pending.write()

    stored = await InboundMessage.all().order_by("id").values_list("external_id", "reply")
    assert stored == [(f"SM{n}", f"reply {n} — ça marche") for n in range(3)]


async def test_a_delivery_never_answered_gets_no_reply_once_the_wait_is_over(orm):
    await record_delivery(sid="SM1", phone=ANN, now=NOW)

    assert await earlier("SM1", PendingReplies(), wait_seconds=0.1) is None
    assert await earlier("SM-unknown", PendingReplies()) is None


async def earlier(sid: str, pending: PendingReplies, wait_seconds: float = 0) -> str | None:
    return await earlier_reply(
        channel=Channel.SMS, external_id=sid, wait_seconds=wait_seconds, pending=pending, now=NOW
    )


async def test_recording_a_delivery_also_reads_who_is_writing_as_identify_does(orm):
    from core.services import booking, correspondents, service_accounts, users
    from core.services.deliveries import record_and_identify

    await service_accounts.create_service_account(phone="+12025550179", name="Zen Spa")
    await users.create_user(name="Ann Bell", phone=ANN)
    await booking.book(
        user_phone=ANN, service_account_phone="+12025550179",
        appointment_date=NOW.date(), now=NOW,
    )
    for n, with_standings in enumerate((True, False)):
        recorded = await record_and_identify(
            channel=Channel.SMS, external_id=f"SM{n}", phone=ANN, now=NOW,
            with_standings=with_standings,
        )
        assert recorded is not None
        delivery, who = recorded
        assert delivery.seen_in_window == n + 1
        assert who == await correspondents.identify(
            channel=Channel.SMS, phone=ANN, now=NOW, with_standings=with_standings
        )
        assert who.registered
        assert (who.standings is not None) == with_standings
    assert who.standings is None
    [standing] = (await correspondents.identify(
        channel=Channel.SMS, phone=ANN, now=NOW, with_standings=True
    )).standings or []
    assert standing.place_name == "Zen Spa"

    # A redelivery reads nothing and counts nothing.
    again = await record_and_identify(
        channel=Channel.SMS, external_id="SM0", phone=ANN, now=NOW, with_standings=True
    )
    assert again is None
    assert (await InboundRate.get(channel="sms", phone=ANN)).seen == 2


async def test_a_stranger_recorded_with_standings_is_nobody_in_no_line(orm):
    from core.services.deliveries import record_and_identify

    recorded = await record_and_identify(
        channel=Channel.SMS, external_id="SM1", phone=BOB, now=NOW, with_standings=True
    )
    assert recorded is not None
    delivery, who = recorded
    assert delivery.seen_in_window == 1
    assert (who.account, who.registered, who.standings) == (None, False, [])
