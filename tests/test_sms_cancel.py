"""CANCEL: by SMS the carrier opts the sender out and they mean "take me out of the
line"; on channels without carrier keywords it is LEAVE."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.engine import handle_message
from core.models import Appointment, Channel, ReliabilityScore, Status
from core.rules.days import utcnow
from core.services import booking, contacts, service_accounts, users
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)

GARDEN = "+12025550180"


@pytest.fixture(name="live_sms")
async def live_sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    """The real engine; Ann waits at two places, today and tomorrow, and Bob at one."""
    sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    await service_accounts.create_service_account(phone=GARDEN, name="Zen Garden", code="GDN")
    today = utcnow().date()
    for phone, name in ((ANN, "Ann Bell"), (BOB, "Bob Chen")):
        await users.create_user(name=name, phone=phone)
    for phone, place, day in (
        (BOB, PROVIDER_PHONE, today),
        (ANN, PROVIDER_PHONE, today),
        (ANN, GARDEN, today + timedelta(days=1)),
    ):
        await booking.book(
            user_phone=phone, service_account_phone=place, appointment_date=day
        )
    return sms


async def statuses(phone: str) -> list[str]:
    rows = Appointment.filter(user__phone=phone).order_by("id").values_list("status", flat=True)
    return [str(s) for s in await rows]


async def cancellations(phone: str) -> dict[str, float]:
    rows = await ReliabilityScore.filter(user__phone=phone).values(
        "service_account__phone", "cancellations"
    )
    return {r["service_account__phone"]: r["cancellations"] for r in rows}


@pytest.mark.parametrize("body", ["CANCEL", "cancel", " Cancel! "])
async def test_cancel_by_sms_leaves_every_line_opts_out_and_sends_no_reply(live_sms, body):
    answers = await replies_in(await live_sms.text(ANN, body))

    # Twilio has answered the opt-out itself and would refuse a reply of ours.
    assert answers == []
    assert await statuses(ANN) == [Status.CANCELED, Status.CANCELED]
    assert await contacts.is_opted_out(phone=ANN)
    # Each counts as Ann's own cancellation, at each place, as LEAVE does.
    assert set(await cancellations(ANN)) == {PROVIDER_PHONE, GARDEN}
    assert all(n > 0 for n in (await cancellations(ANN)).values())
    # Nobody else's spot moved.
    assert await statuses(BOB) == [Status.ACTIVE]


async def test_cancel_by_sms_counts_as_leave_does(live_sms):
    await live_sms.text(BOB, "leave")
    await live_sms.text(ANN, "CANCEL")

    assert (await cancellations(ANN))[PROVIDER_PHONE] == (await cancellations(BOB))[PROVIDER_PHONE]


async def test_cancel_from_someone_in_no_line_only_opts_them_out(live_sms):
    other = "+14155550109"
    assert await replies_in(await live_sms.text(other, "CANCEL")) == []
    assert await contacts.is_opted_out(phone=other)
    assert await statuses(ANN) == [Status.ACTIVE, Status.ACTIVE]


async def test_a_redelivered_cancel_does_not_cancel_a_later_booking(live_sms):
    sid = "SM" + "c" * 32
    assert await replies_in(await live_sms.text(ANN, "CANCEL", sid=sid)) == []
    await booking.book(
        user_phone=ANN, service_account_phone=GARDEN, appointment_date=utcnow().date()
    )

    assert await replies_in(await live_sms.text(ANN, "CANCEL", sid=sid)) == []
    assert await statuses(ANN) == [Status.CANCELED, Status.CANCELED, Status.ACTIVE]


async def test_cancel_in_a_sentence_by_sms_is_leave_and_answered(live_sms):
    [answer] = await replies_in(await live_sms.text(BOB, "cancel please"))

    assert "left the line at Zen Spa" in answer
    assert await statuses(BOB) == [Status.CANCELED]
    assert not await contacts.is_opted_out(phone=BOB)


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.CONSOLE])
async def test_cancel_elsewhere_is_leave_and_opts_nobody_out(live_sms, channel):
    reply = (await handle_message(channel=channel, phone=BOB, text="CANCEL")).text

    assert "left the line at Zen Spa" in reply
    assert await statuses(BOB) == [Status.CANCELED]
    assert not await contacts.is_opted_out(phone=BOB)


def test_only_sms_has_carrier_opt_out_words():
    assert "CANCEL" in Channel.SMS.carrier_opt_out_words
    assert Channel.TELEGRAM.carrier_opt_out_words == frozenset()
    assert Channel.CONSOLE.carrier_opt_out_words == frozenset()
