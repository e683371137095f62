"""LATE and AWAY by SMS, through the webhook and the real engine: a late customer moves
back and the one who moves up is told; a called customer's LATE reaches the provider
by SMS; AWAY is confirmed in one segment."""

from __future__ import annotations

from core.rules import notice_texts
from core.services import service_accounts
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    deliver_outbox,
    one_reply,
    real_sms_fixture,
    twilio_api_fixture,
)


async def test_late_and_away_by_sms_move_the_customer_and_tell_the_provider(real_sms, twilio_api):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")

    async def text(phone: str, body: str) -> str:
        return await one_reply(real_sms, phone, body)

    await text(ANN, "join")
    await text(ANN, "Ann Bell")
    await text(BOB, "join")
    await text(BOB, "Bob Carter")
    assert "you're now #2, 1 ahead" in await text(ANN, "I'll be 20 min late")
    assert "Got it, 15 min away." in await text(ANN, "AWAY 15")
    assert "Called Bob C." in await text(PROVIDER_PHONE, "next")
    assert "your spot is held until" in await text(BOB, "running late 10")

    await deliver_outbox(real_sms)
    told = notice_texts.running_late(name="Bob Carter", phone=BOB, minutes=10)
    await twilio_api.wait_until(
        lambda: any(m.to == PROVIDER_PHONE and m.body == told for m in twilio_api.messages)
    )
    to_ann = [m.body for m in twilio_api.messages if m.to == ANN]
    # Ann is first once Bob is called, 0 min from her turn: time to head over.
    assert notice_texts.head_over(place_name="Zen Spa", wait_minutes=0) in to_ann
    assert notice_texts.you_are_next(place_name="Zen Spa") in to_ann
