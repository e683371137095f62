"""HERE and WHY by SMS, through the webhook and the real engine: the provider hears of
the confirmation by SMS and sees it in QUEUE; WHY answers in one segment."""

from __future__ import annotations

from core.models import Channel
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment
from core.services import service_accounts
from core.services.outbox.dispatcher import Dispatcher
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from webhooks.sms import SMS


async def test_a_called_customer_confirms_by_sms_and_the_provider_hears_and_sees_it(
    aiohttp_client, database_url, twilio_api
):
    app_sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", code="SPA"
    )

    async def text(phone: str, body: str) -> str:
        [reply] = await replies_in(await app_sms.text(phone, body))
        assert fits_one_segment(reply), reply
        return reply

    await text(ANN, "join")
    await text(ANN, "Ann Bell")
    await text(BOB, "join")
    await text(BOB, "Bob Carter")
    assert "not your turn yet" in await text(BOB, "I'm here")
    assert "Called Ann B." in await text(PROVIDER_PHONE, "next")
    assert "knows you're coming" in await text(ANN, "On my way!")
    assert "Now: Ann B. (***0101) coming." in await text(PROVIDER_PHONE, "queue")
    assert "by the time you joined" in await text(BOB, "why am I #1")

    while await Dispatcher({Channel.SMS: app_sms.client.app[SMS].transport}).run_once():
        pass
    told = notice_texts.coming(name="Ann Bell", phone=ANN)
    await twilio_api.wait_until(
        lambda: any(m.to == PROVIDER_PHONE and m.body == told for m in twilio_api.messages)
    )
    assert [m.body for m in twilio_api.messages if m.to == PROVIDER_PHONE] == [told]
