"""WhatsApp through the Twilio webhook, the real engine and the fake Twilio over
loopback HTTP: a customer's conversation, STOP and CANCEL there, notices inside the
24 h window, and the last channel used."""

from __future__ import annotations

from datetime import timedelta

from bot import replies
from core.models import Appointment, Channel, Contact, OutboxMessage, OutboxStatus, Status
from core.rules import notice_texts
from core.rules.days import utcnow
from core.rules.whatsapp import window_open
from core.services import contacts
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    OUR_NUMBER,
    PROVIDER_PHONE,
    one_reply,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from tests.whatsapp_support import (  # noqa: F401 (fixtures)
    WHATSAPP_NUMBER,
    deliver,
    joins,
    last_wrote_on_whatsapp,
    wa_fixture,
    whatsapp,
    zen_spa,
)


def test_the_window_is_open_for_24_hours_after_the_customers_last_message():
    now = utcnow()
    assert window_open(wrote_at=now - timedelta(hours=23, minutes=59), now=now)
    assert not window_open(wrote_at=now - timedelta(hours=24), now=now)
    assert not window_open(wrote_at=None, now=now)


async def test_a_customer_joins_asks_runs_late_leaves_and_asks_for_help_on_whatsapp(wa):
    await zen_spa()
    assert "name" in (await whatsapp(wa, ANN, "join SPA")).lower()
    joined = await whatsapp(wa, ANN, "Ann Bell")
    assert "Zen Spa" in joined
    assert "#1" in joined
    await joins(wa, BOB, "Bob Chen", on_whatsapp=False)

    assert "#1" in await whatsapp(wa, ANN, "status")
    assert "you're now #2, 1 ahead" in await whatsapp(wa, ANN, "I'll be 20 min late")
    assert "#2" in await whatsapp(wa, ANN, "status")
    left = await whatsapp(wa, ANN, "leave")
    assert left.startswith("You've left the line at Zen Spa")
    # No carrier acts on CANCEL on WhatsApp: help does not warn about it.
    assert await whatsapp(wa, ANN, "help") == replies.help_customer(cancel_opts_out=False)

    statuses = await Appointment.filter(user__phone=ANN).values_list("status", flat=True)
    assert [str(s) for s in statuses] == [Status.CANCELED.value]
    contact = await Contact.get(phone=ANN)
    assert contact.preferred_channel == Channel.WHATSAPP.value
    assert not contact.opted_out


async def test_stop_on_whatsapp_opts_out_of_notices_on_every_channel(wa, twilio_api):
    await zen_spa()
    await joins(wa, ANN, "Ann Bell")
    assert await whatsapp(wa, ANN, "STOP") == replies.stopped()
    assert await contacts.is_opted_out(phone=ANN)

    await one_reply(wa, PROVIDER_PHONE, "next")
    await deliver(wa)
    assert [m for m in twilio_api.messages if ANN in m.to] == []
    [notice] = await OutboxMessage.filter(recipient=ANN)
    assert notice.status == OutboxStatus.SKIPPED
    assert notice.failed_over_from is None

    assert await whatsapp(wa, ANN, "START") == replies.started()
    assert not await contacts.is_opted_out(phone=ANN)


async def test_cancel_on_whatsapp_only_leaves_the_line(wa):
    await zen_spa()
    await joins(wa, ANN, "Ann Bell")
    assert (await whatsapp(wa, ANN, "CANCEL")).startswith("You've left the line at Zen Spa")
    assert not await contacts.is_opted_out(phone=ANN)


async def test_a_notice_inside_the_window_goes_by_whatsapp_from_the_whatsapp_sender(
    wa, twilio_api
):
    await zen_spa()
    await joins(wa, ANN, "Ann Bell")
    # 23 hours ago is still inside the window.
    await last_wrote_on_whatsapp(ANN, utcnow() - timedelta(hours=23))
    await one_reply(wa, PROVIDER_PHONE, "next")
    await deliver(wa)

    [sent] = [m for m in twilio_api.messages if ANN in m.to]
    assert (sent.to, sent.sender) == (f"whatsapp:{ANN}", f"whatsapp:{WHATSAPP_NUMBER}")
    assert sent.body == notice_texts.your_turn(place_name="Zen Spa")
    [row] = await OutboxMessage.filter(recipient=ANN)
    assert (row.channel, row.status, row.external_id) == ("whatsapp", OutboxStatus.SENT, sent.sid)

    # The delivery report is recorded as an SMS's is.
    await wa.twilio.report(sent)
    await row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivered_at is not None


async def test_notices_follow_the_channel_the_customer_last_wrote_from(wa, twilio_api):
    await zen_spa()
    await joins(wa, ANN, "Ann Bell", on_whatsapp=False)
    await whatsapp(wa, ANN, "status")
    await joins(wa, BOB, "Bob Chen", on_whatsapp=False)
    await one_reply(wa, PROVIDER_PHONE, "next")
    await deliver(wa)
    assert [m.to for m in twilio_api.messages if ANN in m.to] == [f"whatsapp:{ANN}"]

    # Back on SMS: the next notice (Bob is next once Ann is done) goes there.
    await one_reply(wa, BOB, "status")
    await one_reply(wa, PROVIDER_PHONE, "done")
    await deliver(wa)
    to_bob = [m for m in twilio_api.messages if BOB in m.to]
    assert to_bob
    assert all((m.to, m.sender) == (BOB, OUR_NUMBER) for m in to_bob)


async def test_a_whatsapp_message_with_a_bad_from_is_a_400(wa):
    response = await wa.twilio.post(
        "/webhooks/twilio/sms",
        {"MessageSid": "SM1", "From": "whatsapp:nobody", "To": f"whatsapp:{WHATSAPP_NUMBER}",
         "Body": "hi"},
    )
    assert response.status == 400


async def test_without_a_whatsapp_sender_notices_go_through_the_messaging_service(
    aiohttp_client, database_url, twilio_api
):
    service = "MG" + "1" * 32
    wa = await start_sms(
        aiohttp_client,
        sms_settings(
            database_url,
            twilio_api.url,
            twilio_from_number=None,
            twilio_messaging_service_sid=service,
        ),
        twilio_api,
        engine=None,
    )
    await zen_spa()
    await joins(wa, ANN, "Ann Bell")
    await one_reply(wa, PROVIDER_PHONE, "next")
    await deliver(wa)
    [sent] = [m for m in twilio_api.messages if ANN in m.to]
    assert (sent.to, sent.messaging_service_sid) == (f"whatsapp:{ANN}", service)
