"""DELAY by SMS, through the webhook and the real engine: each waiting customer gets
one text from Twilio, and STATUS by SMS quotes the longer wait."""

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


async def test_a_delay_by_sms_texts_each_waiting_customer_once_and_status_includes_it(
    real_sms, twilio_api
):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa")
    for phone, name in ((ANN, "Ann Bell"), (BOB, "Bob Carter")):
        await one_reply(real_sms, phone, "join")
        await one_reply(real_sms, phone, name)
    reply = await one_reply(real_sms, PROVIDER_PHONE, "DELAY 25 running behind, sorry")
    assert "Told 2 people" in reply
    # Sent twice, it texts no one twice.
    assert "Told 0 people" in await one_reply(real_sms, PROVIDER_PHONE, "delay 25")
    assert "55 min" in await one_reply(real_sms, BOB, "status")

    await deliver_outbox(real_sms)
    told = notice_texts.running_behind(
        place_name="Zen Spa", minutes=25, note="running behind, sorry"
    )
    await twilio_api.wait_until(lambda: sum(m.body == told for m in twilio_api.messages) == 2)
    assert sorted(m.to for m in twilio_api.messages if m.body == told) == sorted([ANN, BOB])
    assert "cleared" in await one_reply(real_sms, PROVIDER_PHONE, "delay 0")
    assert "30 min" in await one_reply(real_sms, BOB, "status")
