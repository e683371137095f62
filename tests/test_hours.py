"""Opening hours and closed dates: set through the admin API, and joins (by text and
POST /appointments/) refused on a closed day or when the turn would come after closing."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import Appointment
from core.services import service_accounts, users
from tests.api_helpers import (
    ANN,
    PROVIDER,
    book,
    data_of,
    day_after,
    detail_of,
    make_provider,
    make_user,
)
from tests.test_engine_dialogues import PHONES, REGISTERED, TODAY, booked, run, say

# The dialogue tests' day is Wednesday 18 November 2026, 15:00 UTC.
SAT = date(2026, 11, 21)
HOURS = {
    "wed": [["09:00", "12:00"], ["13:00", "16:00"]],
    "thu": [["09:00", "17:00"]],
    "sat": [["10:00", "14:00"]],
}


async def _spa(**fields):
    await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA", **fields
    )
    for who, name in REGISTERED.items():
        await users.create_user(name=name, phone=PHONES[who])


@pytest.fixture
async def spa_with_hours(orm):
    # Thursday the 19th is a holiday, Friday is not in the hours: Saturday is next.
    await _spa(hours=HOURS, closed_dates=["2026-11-19"])


async def test_a_join_for_a_closed_day_names_the_next_open_day(spa_with_hours):
    await run([
        ("ann", "join spa thu", (), ("closed", "Next open Sat 21 Nov", "JOIN SPA 2026-11-21")),
        ("ann", "join spa fri", (), ("closed", "Sat 21 Nov")),
        ("ann", "join spa 2026-11-21", (booked("ann", "spa", SAT),), ("You're in line",)),
    ])


async def test_a_same_day_join_whose_turn_falls_after_closing_is_refused(spa_with_hours):
    # 30 minutes each from 15:00: a turn at 16:00 is in time, one at 16:30 is not.
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ("You're in line",)),
        ("bob", "join spa", (booked("bob", "spa", TODAY),), ("You're in line",)),
        ("cy", "join spa", (booked("cy", "spa", TODAY),), ("You're in line",)),
        ("dee", "join spa", (), ("closes at 16:00 today", "JOIN SPA 2026-11-21")),
        ("dee", "join spa 2026-11-21", (booked("dee", "spa", SAT),), ("You're in line",)),
    ])


async def test_chairs_share_the_wait_that_must_end_before_closing(orm):
    # Two chairs from 15:00: the three ahead of Dee book 90 minutes, a 45-minute wait.
    await _spa(hours=HOURS, closed_dates=["2026-11-19"], chairs=2)
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ("You're in line",)),
        ("bob", "join spa", (booked("bob", "spa", TODAY),), ("You're in line",)),
        ("cy", "join spa", (booked("cy", "spa", TODAY),), ("You're in line",)),
        ("dee", "join spa", (booked("dee", "spa", TODAY),), ("You're in line",)),
    ])


async def test_a_delay_counts_toward_the_turn_that_must_come_before_closing(spa_with_hours):
    # 15:00 plus a 45-minute delay and Ann's 30 minutes: Bob's turn would be 16:15.
    await run([
        ("spa", "delay 45", (), ("Told 0 people",)),
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ("45 min",)),
        ("bob", "join spa", (), ("closes at 16:00 today",)),
    ])


async def test_a_providers_own_add_is_not_held_to_its_hours(spa_with_hours):
    walk_in = "+14155550199"
    reply = await say("spa", f"add {walk_in} Walt thu")
    assert "for tomorrow" in reply
    assert await Appointment.filter(user__phone=walk_in, day=date(2026, 11, 19)).exists()


async def test_refused_after_closing_the_customer_can_join_tomorrow(orm):
    await _spa(hours=HOURS)
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ()),
        ("bob", "join spa", (booked("bob", "spa", TODAY),), ()),
        ("cy", "join spa", (booked("cy", "spa", TODAY),), ()),
        ("dee", "join spa", (), ("Next open tomorrow: reply YES", "JOIN SPA TOMORROW")),
        ("dee", "join spa tomorrow", (booked("dee", "spa", date(2026, 11, 19)),), ()),
    ])


async def test_refused_after_closing_the_customer_who_says_tomorrow_is_put_on_tomorrow(orm):
    await _spa(hours=HOURS)
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ()),
        ("bob", "join spa", (booked("bob", "spa", TODAY),), ()),
        ("cy", "join spa", (booked("cy", "spa", TODAY),), ()),
        ("dee", "join spa", (), ("closes at 16:00 today",)),
        ("dee", "tomorrow", (booked("dee", "spa", date(2026, 11, 19)),), ("tomorrow: #1",)),
    ])


async def test_closed_dates_alone_leave_every_other_day_open(orm):
    await _spa(closed_dates=["2026-11-18"])
    await run([
        ("ann", "join spa", (), ("closed today", "JOIN SPA TOMORROW")),
        ("ann", "join spa tomorrow", (booked("ann", "spa", date(2026, 11, 19)),), ()),
    ])


async def test_the_api_keeps_hours_and_closed_dates_and_clears_them_with_null(client):
    made = await make_provider(client, hours=HOURS, closed_dates=["2026-12-25", "2026-01-01"])
    assert made["hours"] == HOURS
    assert made["closed_dates"] == ["2026-01-01", "2026-12-25"]
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["hours"] == HOURS
    path = f"/service-accounts/{PROVIDER}"
    changed = await data_of(await client.put(path, json={"hours": None}), 200)
    assert changed["hours"] is None
    assert changed["closed_dates"] == ["2026-01-01", "2026-12-25"]
    plain = await make_provider(client, phone="+12025550180")
    assert plain["hours"] is None
    assert plain["closed_dates"] is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "HH:MM"),
        ({"hours": {"mon": [["13:00", "12:00"]]}}, "opens must be before closes"),
        ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}}, "not overlap"),
        ({"hours": {"funday": [["09:00", "12:00"]]}}, "unknown day"),
        ({"closed_dates": ["2026-13-01"]}, "closed_dates"),
    ],
)
async def test_bad_hours_are_a_422_with_detail_on_create_and_update(client, fields, says):
    response = await client.post(
        "/service-accounts/", json={"name": "Spa", "phone": PROVIDER, **fields}
    )
    assert says in str(await detail_of(response, 422))
    await make_provider(client)
    response = await client.put(f"/service-accounts/{PROVIDER}", json=fields)
    assert says in str(await detail_of(response, 422))


async def test_booking_a_closed_date_through_the_api_is_refused_naming_the_next_open_day(client):
    await make_provider(client, closed_dates=[day_after(1)])
    await make_user(client, phone=ANN)
    detail = await book(client, day=day_after(1), status=422)
    assert f"closed on {day_after(1)}" in detail
    assert f"next open {day_after(2)}" in detail
    assert (await book(client, day=day_after(2)))["day"] == day_after(2)


async def test_a_full_day_names_the_next_day_that_is_open_as_well_as_free(orm):
    # Thursday is a holiday and Friday is not in the hours: Saturday has room and opens.
    await _spa(hours=HOURS, closed_dates=["2026-11-19"], max_waiting=1)
    await run([
        ("ann", "join spa", (booked("ann", "spa", TODAY),), ()),
        ("bob", "join spa", (), ("full that day", "Next day with room: Sat 21 Nov")),
        ("bob", "yes", (booked("bob", "spa", SAT),), ("Sat 21 Nov: #1",)),
    ])
