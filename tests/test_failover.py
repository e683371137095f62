"""A second channel when the first fails: a notice that cannot reach the customer on
their channel goes once by SMS, when the phone can take one, and the attempt is
recorded on the notice. Each failure kind: WhatsApp outside its window (known to us,
or told by Twilio's 63016), Twilio's undeliverable report for WhatsApp, and a Telegram
bot the customer blocked."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import timedelta

from core.models import Channel, Contact, OutboxMessage, OutboxStatus
from core.rules.days import utcnow
from core.services import contacts, users
from core.services.outbox.dispatcher import Dispatcher
from tests.fakes.twilio_api import INVALID_TO, FakeTwilio
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    OUR_NUMBER,
    sms_settings,
    twilio_api_fixture,
)
from tests.telegram_support import (  # noqa: F401 (fixtures)
    bot,
    telegram_api,
)
from tests.whatsapp_support import (  # noqa: F401 (fixtures)
    deliver,
    wa_fixture,
    whatsapp,
    window_closes,
)
from webhooks.sms.transports import twilio_sms_transport
from webhooks.telegram.outbound import TelegramTransport
from webhooks.telegram.pacing import BotPacer

NOTICE = "It's your turn at Zen Spa!"


async def ann_writes_on_whatsapp(wa) -> None:
    await whatsapp(wa, ANN, "hi")
    await whatsapp(wa, ANN, "Ann Bell")


async def notice(channel: Channel = Channel.WHATSAPP, key: str = "turn:1") -> OutboxMessage:
    return await OutboxMessage.create(
        channel=channel.value,
        recipient=ANN,
        text=NOTICE,
        next_attempt_at=utcnow() - timedelta(seconds=1),
        idempotency_key=key,
    )


def sent_to_ann(api: FakeTwilio) -> list[tuple[str, str]]:
    return [(m.to, m.body) for m in api.messages if ANN in m.to]


async def test_outside_the_window_a_notice_goes_once_by_sms_without_trying_whatsapp(
    wa, twilio_api
):
    await ann_writes_on_whatsapp(wa)
    await window_closes(ANN)
    row = await notice()
    await deliver(wa)

    assert sent_to_ann(twilio_api) == [(ANN, NOTICE)]
    assert not any(r.form["To"].startswith("whatsapp:") for r in twilio_api.requests)
    await row.refresh_from_db()
    assert (row.channel, row.status, row.failed_over_from) == ("sms", OutboxStatus.SENT, "whatsapp")
    assert row.last_error == "whatsapp: outside the 24 h window"
    assert row.external_id == twilio_api.messages[-1].sid


async def test_outside_the_window_without_the_sms_fallback_a_notice_is_skipped(wa, twilio_api):
    await ann_writes_on_whatsapp(wa)
    await window_closes(ANN)
    row = await notice()
    await deliver(wa, fallback=None)

    assert sent_to_ann(twilio_api) == []
    await row.refresh_from_db()
    assert (row.channel, row.status) == ("whatsapp", OutboxStatus.SKIPPED)
    assert row.last_error == "outside the 24 h window"


async def test_outside_the_window_a_phone_that_cannot_take_sms_is_skipped(wa, twilio_api):
    await ann_writes_on_whatsapp(wa)
    await window_closes(ANN)
    await contacts.set_sms_undeliverable(phone=ANN)
    row = await notice()
    await deliver(wa)

    assert sent_to_ann(twilio_api) == []
    await row.refresh_from_db()
    assert (row.status, row.failed_over_from) == (OutboxStatus.SKIPPED, None)


async def test_twilios_63016_for_a_whatsapp_notice_sends_it_once_by_sms(wa, twilio_api):
    await ann_writes_on_whatsapp(wa)
    # Twilio's clock says the window closed; ours still thinks it open.
    twilio_api.close_window(ANN)
    row = await notice()
    await deliver(wa)
    [on_whatsapp] = twilio_api.messages[-1:]
    assert on_whatsapp.to == f"whatsapp:{ANN}"
    assert on_whatsapp.outcome == ("failed", "63016")

    response = await wa.twilio.report(on_whatsapp)
    assert response.status == 204
    await deliver(wa)
    # Twilio repeats itself; the notice has moved on and nothing changes.
    await wa.twilio.report(on_whatsapp)
    await deliver(wa)

    assert sent_to_ann(twilio_api) == [(f"whatsapp:{ANN}", NOTICE), (ANN, NOTICE)]
    await row.refresh_from_db()
    assert (row.channel, row.status, row.failed_over_from) == ("sms", OutboxStatus.SENT, "whatsapp")
    assert row.last_error == "whatsapp: carrier: failed (error 63016)"


async def test_an_undelivered_whatsapp_notice_goes_by_sms_and_a_failed_sms_ends_there(
    wa, twilio_api
):
    await ann_writes_on_whatsapp(wa)
    row = await notice()
    await deliver(wa)
    await wa.twilio.status(twilio_api.messages[-1], "undelivered", error_code="63024")
    await deliver(wa)
    on_sms = twilio_api.messages[-1]
    assert (on_sms.to, on_sms.body) == (ANN, NOTICE)

    # The SMS fails too: no third channel, no second move.
    await wa.twilio.status(on_sms, "undelivered", error_code="30003")
    await deliver(wa)
    assert len(sent_to_ann(twilio_api)) == 2
    await row.refresh_from_db()
    assert (row.channel, row.status, row.failed_over_from) == (
        "sms", OutboxStatus.FAILED, "whatsapp",
    )


async def test_a_notice_to_a_blocked_telegram_bot_goes_once_by_sms(bot, twilio_api, database_url):
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN)
    await ann.links()
    bot.api.block(ann.chat_id)
    row = await notice(Channel.TELEGRAM)
    telegram = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))
    async with twilio_sms_transport(sms_settings(database_url, twilio_api.url)) as sms:
        dispatcher = Dispatcher(
            {Channel.TELEGRAM: telegram, Channel.SMS: sms}, fallback=Channel.SMS
        )
        while await dispatcher.run_once():
            pass

    assert sent_to_ann(twilio_api) == [(ANN, NOTICE)]
    await row.refresh_from_db()
    assert (row.channel, row.status, row.failed_over_from) == ("sms", OutboxStatus.SENT, "telegram")
    assert row.last_error is not None
    assert row.last_error.startswith("telegram: Telegram refused")


async def test_a_number_twilio_calls_invalid_is_not_sent_sms_until_it_texts_again(
    wa, twilio_api
):
    twilio_api.fail_next(INVALID_TO)
    row = await notice(Channel.SMS)
    await deliver(wa)
    await row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert (await Contact.get(phone=ANN)).sms_undeliverable
    assert not await contacts.sms_possible(phone=ANN)

    await whatsapp(wa, ANN, "hi")
    assert (await Contact.get(phone=ANN)).sms_undeliverable
    await wa.twilio.sms(sender=ANN, body="hi", to=OUR_NUMBER)
    assert await contacts.sms_possible(phone=ANN)
