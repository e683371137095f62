"""Days and times in conversations: each provider's date order, days that passed or
lie past the booking horizon, times of day, and closing visits by text."""

from __future__ import annotations

from datetime import date

import pytest

from bot import replies
from core.models import Conversation
from core.services import service_accounts, users
from tests.test_engine_dialogues import NOW, PHONES, REGISTERED, TODAY, booked, run, say

DEC_3, DEC_24 = date(2026, 12, 3), date(2026, 12, 24)


@pytest.fixture
async def us_and_uk(orm):
    """A provider without a country yet (read as the US) and one in Britain."""
    await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA", timezone="America/New_York"
    )
    await service_accounts.create_service_account(
        phone=PHONES["gdn"], name="Kew Garden", code="KEW", timezone="Europe/London",
        country="GB",
    )
    for who, name in REGISTERED.items():
        await users.create_user(name=name, phone=PHONES[who])


@pytest.fixture
async def spa(orm):
    await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA", country="US"
    )
    for who, name in REGISTERED.items():
        await users.create_user(name=name, phone=PHONES[who])


async def test_numeric_dates_follow_the_providers_country(us_and_uk):
    await run([
        ("ann", "join spa 12/03", (booked("ann", "spa", DEC_3),), ("Zen Spa Thu 3 Dec",)),
        ("bob", "join kew 03/12", (booked("bob", "gdn", DEC_3),), ("Kew Garden Thu 3 Dec",)),
        # Valid one way only: December 24 wherever it is sent.
        ("cy", "join spa 12/24", (booked("cy", "spa", DEC_24),), ("Thu 24 Dec",)),
        ("dee", "join kew 12/24", (booked("dee", "gdn", DEC_24),), ("Thu 24 Dec",)),
    ])


async def test_a_providers_add_and_queue_read_days_in_its_country_order(us_and_uk):
    await run([
        ("spa", "add +14155550199 Walt Inman 12/03", (booked("walkin", "spa", DEC_3),),
         ("for Thu 3 Dec",)),
        ("spa", "queue 12/03", (), ("Thu 3 Dec: 1 waiting",)),
        ("gdn", "add +14155550105 Nina Park 03/12", (booked("new", "gdn", DEC_3),),
         ("for Thu 3 Dec",)),
        ("gdn", "queue 12/24", (), ("Thu 24 Dec: 0 waiting",)),
    ])


async def test_join_yesterday_says_the_day_passed_instead_of_asking_which_place(us_and_uk):
    await run([
        ("ann", "join yesterday", (), ("passed",)),
        ("ann", "join 2026-11-01", (), ("passed",)),
    ])
    assert await Conversation.all().count() == 0
    await run([("ann", "join spa yesterday", (), ("passed",))])


async def test_join_with_a_time_books_the_day_and_says_there_are_no_set_times(spa):
    await run([
        ("ann", "join spa at 3pm", (booked("ann", "spa", TODAY),),
         ("Zen Spa today", "No set times", "first come, first served")),
        ("bob", "join spa tomorrow 15:00",
         (booked("bob", "spa", date(2026, 11, 19)),), ("tomorrow", "No set times")),
        ("cy", "book at 3:30 pm", (booked("cy", "spa", TODAY),), ("No set times",)),
        ("dee", "join spa", (booked("dee", "spa", TODAY),), ("Text STATUS",)),
    ])
    reply = await say("dee", "status")
    assert "No set times" not in reply


async def test_a_time_survives_the_question_which_place(us_and_uk):
    await run([
        ("ann", "join at 3", (), ("Which place?",)),
        ("ann", "2", (booked("ann", "gdn", TODAY),), ("Kew Garden today", "No set times")),
    ])


async def test_a_day_past_the_horizon_gets_how_far_ahead_bookings_open(spa):
    await run([
        ("ann", "join spa 2031-01-01", (), ("Bookings open 90 days ahead", "Tue 16 Feb 2027")),
        ("ann", "join spa 31/12/9999", (), ("Bookings open 90 days ahead",)),
        ("spa", "add +14155550199 Walt 9999-12-31", (), ("Bookings open 90 days ahead",)),
        ("ann", "join spa 2027-02-16", (booked("ann", "spa", date(2027, 2, 16)),),
         ("Tue 16 Feb 2027",)),
    ])


async def test_a_day_in_another_year_shows_its_year(spa):
    await run([
        ("ann", "join spa 2027-01-05", (booked("ann", "spa", date(2027, 1, 5)),),
         ("Zen Spa Tue 5 Jan 2027",)),
        ("ann", "status", (), ("Tue 5 Jan 2027",)),
        ("bob", "join spa 2026-12-05", (booked("bob", "spa", date(2026, 12, 5)),),
         ("Sat 5 Dec:",)),
    ])


def test_the_day_label_carries_the_year_only_when_it_is_not_this_one():
    assert replies.day_label(date(2027, 1, 5), today=date(2026, 12, 30)) == "Tue 5 Jan 2027"
    assert replies.day_label(date(2026, 12, 31), today=date(2026, 12, 30)) == "tomorrow"
    assert replies.day_label(date(2027, 1, 1), today=date(2026, 12, 31)) == "tomorrow"
    assert replies.day_label(date(2026, 12, 5), today=date(2026, 11, 18)) == "Sat 5 Dec"
    assert NOW.date() == TODAY


async def test_the_telegram_day_picker_offers_no_day_past_the_horizon(orm):
    from webhooks.telegram import keyboards

    near = await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA", booking_horizon_days=2
    )
    buttons = [b for row in keyboards.pick_day(near).inline_keyboard for b in row]
    assert [b.text for b in buttons][:2] == ["Today", "Tomorrow"]
    assert len(buttons) == 3
    far = await service_accounts.create_service_account(
        phone=PHONES["gdn"], name="Kew", code="KEW"
    )
    assert sum(len(row) for row in keyboards.pick_day(far).inline_keyboard) == (
        keyboards.DAYS_AHEAD
    )
