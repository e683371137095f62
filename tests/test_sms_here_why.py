"""HERE and WHY by SMS, through the webhook and the real engine: the provider hears of
the confirmation by SMS and sees it in QUEUE; WHY answers in one segment."""

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


async def test_a_called_customer_confirms_by_sms_and_the_provider_hears_and_sees_it(
    real_sms, twilio_api
):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")

    async def text(phone: str, body: str) -> str:
        return await one_reply(real_sms, phone, body)

    await text(ANN, "join")
    await text(ANN, "Ann Bell")
    await text(BOB, "join")
    await text(BOB, "Bob Carter")
    assert "not your turn yet" in await text(BOB, "I'm here")
    assert "Called Ann B." in await text(PROVIDER_PHONE, "next")
    assert "knows you're coming" in await text(ANN, "On my way!")
    assert "Now: Ann B. (***0101) coming." in await text(PROVIDER_PHONE, "queue")
    assert "by the time you joined" in await text(BOB, "why am I #1")

    await deliver_outbox(real_sms)
    told = notice_texts.coming(name="Ann Bell", phone=ANN)
    await twilio_api.wait_until(
        lambda: any(m.to == PROVIDER_PHONE and m.body == told for m in twilio_api.messages)
    )
    assert [m.body for m in twilio_api.messages if m.to == PROVIDER_PHONE] == [told]
