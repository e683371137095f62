"""A grace period by SMS, end to end: the app's own grace worker (on the real clock)
reminds the called customer once, then closes the spot as a no-show because our "your
turn" reached them, tells both sides by SMS, and the provider's UNDO puts it back."""

from __future__ import annotations

import asyncio

from core.models import Appointment, Status
from core.rules import notice_texts
from core.services import service_accounts
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    PROVIDER_PHONE,
    deliver_outbox,
    one_reply,
    real_sms_fixture,
    twilio_api_fixture,
)


async def test_an_unconfirmed_customer_is_reminded_then_marked_no_show_and_undo_restores(
    real_sms, twilio_api
):
    # Three seconds of grace: the app's worker polls the real clock once a second.
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", code="SPA", grace_minutes=0.05
    )

    async def text(phone: str, body: str) -> str:
        return await one_reply(real_sms, phone, body)

    await text(ANN, "join")
    await text(ANN, "Ann Bell")
    assert "Called Ann B." in await text(PROVIDER_PHONE, "next")
    turn = notice_texts.your_turn(place_name="Zen Spa")
    reminder = notice_texts.grace_reminder(place_name="Zen Spa")
    closed = notice_texts.grace_closed(place_name="Zen Spa", minutes="0.05")
    no_show = notice_texts.grace_no_show(name="Ann Bell", phone=ANN, minutes="0.05")

    def bodies(to: str) -> list[str]:
        return [m.body for m in twilio_api.messages if m.to == to]

    # This app delivers only when asked (sms_settings): deliver until the provider hears.
    async with asyncio.timeout(60):
        while no_show not in bodies(PROVIDER_PHONE):
            await deliver_outbox(real_sms)
            await asyncio.sleep(0.2)
    to_ann = bodies(ANN)
    assert to_ann.index(turn) < to_ann.index(reminder) < to_ann.index(closed)
    assert (to_ann.count(reminder), to_ann.count(closed)) == (1, 1)
    assert (await Appointment.get(user__phone=ANN)).status is Status.NO_SHOW

    reply = await text(PROVIDER_PHONE, "undo")
    assert reply.startswith("Undone the no-show: Ann B.")
    assert (await Appointment.get(user__phone=ANN)).status is Status.ACTIVE
