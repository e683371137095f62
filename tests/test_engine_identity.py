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
    return (await handle_message(channel=Channel.SMS, phone=phone, text=text, now=NOW)).text


async def booked() -> list[tuple[str, str, str]]:
    rows = (
        await Appointment.all()
        .order_by("id")
        .values("user__phone", "service_account__phone", "status")
    )
    return [(r["user__phone"], r["service_account__phone"], str(r["status"])) for r in rows]


@pytest.fixture
async def spa(orm):
    await service_accounts.create_service_account(
        phone=SPA, name="Zen Spa", code="SPA", timezone="America/New_York"
    )


@pytest.mark.parametrize(
    "text", ["ADD +999999999999 Ned", "ADD +1 303 000 0001 Ned", "add +12345 Ned"]
)
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


# A phone that is both a provider's and a customer's -----------------------------------


@pytest.fixture
async def both(spa):
    """Ann is a customer; then a provider account (Ann's Garden) is made on her phone."""
    await users.create_user(name="Ann Bell", phone=ANN)
    await users.create_user(name="Bob Chen", phone=BOB)
    await service_accounts.create_service_account(phone=ANN, name="Ann's Garden", code="GDN")


async def test_customer_commands_from_a_providers_phone_work_as_the_customers(both):
    reply = await say(ANN, "join spa")
    assert "Zen Spa" in reply
    assert "#1" in reply
    assert await booked() == [(ANN, SPA, "active")]
    assert "#1" in await say(ANN, "where")
    assert "left" in await say(ANN, "I can't make it")
    assert await booked() == [(ANN, SPA, "canceled")]


async def test_provider_commands_win_on_a_phone_that_is_both(both):
    await say(BOB, "join gdn")
    # STATUS is the provider's word for QUEUE.
    assert "Bob C." in await say(ANN, "status")
    assert "Bob C." in await say(ANN, "queue")
    assert "Called Bob C." in await say(ANN, "next")
    assert "Added" in await say(ANN, "add +1 415 555 0151 Walt")
    assert "ADD" in await say(ANN, "help")


async def test_a_customer_dialogue_from_a_phone_that_is_both_is_answered(both):
    await service_accounts.create_service_account(phone=GDN, name="Zen Garden", code="ZG")
    asked = await say(ANN, "join")
    assert "Which place?" in asked
    [number] = re.findall(r"(\d) Zen Spa", asked)
    assert "Zen Spa" in await say(ANN, number)
    assert await booked() == [(ANN, SPA, "active")]


async def test_a_provider_only_phone_still_gets_the_provider_hints(spa):
    assert "Try" in await say(SPA, "join spa")
    assert await booked() == []


async def test_a_phone_that_is_both_joins_by_sms(aiohttp_client, database_url, twilio_api):
    sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await service_accounts.create_service_account(phone=ANN, name="Ann's Garden", code="GDN")

    [answer] = await replies_in(await sms.text(ANN, "join spa"))

    assert "Zen Spa" in answer
    rows = await Appointment.filter(status=Status.ACTIVE).values_list(
        "user__phone", "service_account__phone"
    )
    assert [tuple(r) for r in rows] == [(ANN, SPA)]
