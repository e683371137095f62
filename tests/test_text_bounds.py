"""Values read from free text meet the database only within what its columns hold."""

from __future__ import annotations

import pytest

from bot.engine import handle_message
from core.models import Appointment, Channel, ServiceAccount, User
from core.rules import limits
from core.services import calling, provider_lookup, service_accounts, users

SPA = "+14155550100"
ANN = "+14155550101"


def test_the_bounds_are_the_columns_own():
    code = ServiceAccount._meta.fields_map["code"]
    assert code.max_length == limits.MAX_CODE
    assert ServiceAccount._meta.fields_map["name"].max_length == limits.MAX_NAME_COLUMN
    assert User._meta.fields_map["name"].max_length == limits.MAX_NAME_COLUMN
    # 32-bit integer keys, as PostgreSQL's `integer`.
    assert type(Appointment._meta.fields_map["id"]).__name__ == "IntField"
    assert limits.MAX_ID == 2**31 - 1


@pytest.mark.parametrize(
    ("word", "is_code"),
    [("SPA", True), ("spa", True), ("A" * 16, True), ("A" * 17, False), ("SPA\n", False),
     ("ŠPA", False), ("ＳＰＡ", False), ("", False), ("S-PA", False)],
)
def test_a_code_is_one_to_sixteen_ascii_letters_or_digits(word, is_code):
    assert limits.is_code(word) is is_code


@pytest.fixture
async def spa(orm):
    return await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")


@pytest.mark.parametrize(
    "words",
    [
        ["x" * 17],
        ["the", "queue", "at", "y" * 40, "tomorrow"],
        ["Ü" * 300],
        ["zen"] * 100,
        ["ß" * 10],
    ],
)
async def test_words_no_code_or_name_can_hold_find_no_place_without_an_error(spa, words):
    assert await provider_lookup.find(words=words, phone=None) == []


async def test_a_code_among_over_long_words_is_still_found(spa):
    found = await provider_lookup.find(words=["z" * 40, "at", "spa"], phone=None)
    assert [a.code for a in found] == ["SPA"]


@pytest.mark.parametrize(
    ("position", "appointment_id"),
    [(None, 2**31), (None, 10**20), (None, 0), (None, -1),
     (10**20, None), (2**63, None), (0, None)],
)
async def test_a_position_or_id_no_row_can_have_closes_nothing(spa, position, appointment_id):
    found = await calling.closable(
        service_account_phone=SPA, position=position, appointment_id=appointment_id
    )
    assert found is None


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("DONE #2147483648", "No active appointment #2147483648 in your line."),
        ("noshow #99999999999999999999", "No active appointment #9999999999999999... in"),
        ("DONE 99999999999", "There is no #99999999999 in today's line."),
        ("done 0", "There is no #0 in today's line."),
    ],
)
async def test_a_provider_naming_an_impossible_visit_is_told_there_is_none(spa, text, reply):
    answer = (await handle_message(channel=Channel.SMS, phone=SPA, text=text)).text
    assert answer.startswith(reply)


async def test_a_customer_naming_an_impossible_place_is_offered_the_places(spa):
    await users.create_user(name="Ann Bell", phone=ANN)
    answer = await handle_message(
        channel=Channel.SMS, phone=ANN, text="JOIN FLT 99999999999999999999"
    )
    assert "Zen Spa" in answer.text
    assert not await Appointment.exists()
