"""LATE and AWAY by SMS, through the webhook and the real engine: a late customer moves
back and the one who moves up is told; a called customer's LATE reaches the provider
by SMS; AWAY is confirmed in one segment."""

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


async def test_late_and_away_by_sms_move_the_customer_and_tell_the_provider(
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
    assert "you're now #2, 1 ahead" in await text(ANN, "I'll be 20 min late")
    assert "Got it, 15 min away." in await text(ANN, "AWAY 15")
    assert "Called Bob C." in await text(PROVIDER_PHONE, "next")
    assert "they're waiting for you" in await text(BOB, "running late 10")

    while await Dispatcher({Channel.SMS: app_sms.client.app[SMS].transport}).run_once():
        pass
    told = notice_texts.running_late(name="Bob Carter", phone=BOB, minutes=10)
    await twilio_api.wait_until(
        lambda: any(m.to == PROVIDER_PHONE and m.body == told for m in twilio_api.messages)
    )
    to_ann = [m.body for m in twilio_api.messages if m.to == ANN]
    # Ann is first once Bob is called, 0 min from her turn: time to head over.
    assert notice_texts.head_over(place_name="Zen Spa", wait_minutes=0) in to_ann
    assert notice_texts.you_are_next(place_name="Zen Spa") in to_ann
