"""Phones through the texting engine: numbers a provider types, and a phone that is both
a provider's and a customer's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from bot.engine import handle_message
from core.models import Appointment, Channel, Status, User
from core.services import service_accounts, users
from tests.sms_support import (  # noqa: F401 (fixtures)
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
SPA = "+12025550100"
GDN = "+12025550200"
ANN = "+14155550101"
BOB = "+14155550102"


async def say(phone: str, text: str) -> str:
    return await handle_message(channel=Channel.SMS, phone=phone, text=text, now=NOW)


async def booked() -> list[tuple[str, str, str]]:
    rows = await Appointment.all().order_by("id").values(
        "user__phone", "service_account__phone", "status"
    )
    return [(r["user__phone"], r["service_account__phone"], str(r["status"])) for r in rows]


@pytest.fixture
async def spa(orm):
    await service_accounts.create_service_account(
        phone=SPA, name="Zen Spa", code="SPA", timezone="America/New_York"
    )


@pytest.mark.parametrize("text", ["ADD +999999999999 Ned", "ADD +1 303 000 0001 Ned", "add +12345 Ned"])
async def test_a_typed_number_no_numbering_plan_allows_books_nobody(spa, text):
    reply = await say(SPA, text)
    assert "not a valid phone number" in reply
    assert "nobody was added" in reply
    assert await User.all().count() == 0
    assert await booked() == []


async def test_a_national_number_from_a_us_provider_is_read_as_a_us_number(spa):
    reply = await say(SPA, "ADD 415-555-0151 Dana")
    assert "Added Dana" in reply
    user = await users.get_user(phone="+14155550151")
    assert user.name == "Dana"
    assert await booked() == [("+14155550151", SPA, "active")]


async def test_a_national_number_is_read_in_the_providers_own_country(orm):
    await service_accounts.create_service_account(
        phone="+33155550100", name="Salon", code="SAL", timezone="Europe/Paris"
    )
    reply = await say("+33155550100", "add 06 12 34 56 78 Marie tomorrow")
    assert "Added Marie" in reply
    assert "tomorrow" in reply
    assert (await users.get_user(phone="+33612345678")).name == "Marie"


async def test_a_provider_in_a_zone_of_no_single_country_reads_numbers_in_the_default(orm):
    account = await service_accounts.create_service_account(phone=SPA, name="Zen Spa")
    assert account.country == "US"
    assert "Added" in await say(SPA, "add (415) 555 0151")
    assert await booked() == [("+14155550151", SPA, "active")]


async def test_an_international_number_is_added_as_typed(spa):
    assert "Added Ian" in await say(SPA, "ADD +44 20 7946 0958 Ian")
    assert await booked() == [("+442079460958", SPA, "active")]
