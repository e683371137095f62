"""Capacity, chairs, CLOSE and OPEN through the engine on a real database: a join past a
limit or on a closed day is refused with the next day that has room, a provider's ADD
goes past them and says so, CLOSE keeps those waiting callable, and chairs divide the
wait every reply quotes."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import timedelta

from bot import provider_replies, replies
from core.models import Appointment, ServiceAccount, Status
from core.rules.gsm import fits_one_segment
from core.services import booking, service_accounts, sql
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    TODAY,
    TOMORROW,
    booked,
    called,
    run,
    say,
    spa,
)

DAY = 24 * 60


async def limit(**fields: int | None) -> None:
    await service_accounts.update_service_account(phone=PHONES["spa"], changes=fields)


async def waiting_today() -> list[str]:
    rows = await Appointment.filter(
        service_account__phone=PHONES["spa"], day=TODAY, status=Status.ACTIVE
    ).values_list("user__phone", flat=True)
    return sorted(str(phone) for phone in rows)


def full_today(next_day: str | None = "tomorrow") -> str:
    return replies.no_room(place_name="Zen Spa", closed=False, next_day=next_day)


async def test_a_join_past_max_waiting_names_tomorrow_and_changes_nothing(spa):
    await limit(max_waiting=2)
    await run([
        ("ann", "join", (booked("ann", "spa", TODAY),), ()),
        ("bob", "join", (booked("bob", "spa", TODAY),), ()),
        ("cy", "join", (), (full_today(),)),
        ("cy", "join tomorrow", (booked("cy", "spa", TOMORROW),), ()),
    ])


async def test_once_someone_is_called_a_place_opens_under_max_waiting(spa):
    await limit(max_waiting=1)
    await say("ann", "join")
    assert await say("bob", "join") == full_today()
    await say("spa", "next")
    assert "in line" in await say("bob", "join")


async def test_a_full_daily_limit_points_past_every_full_day(spa):
    await limit(daily_limit=1)
    await say("ann", "join")
    await say("bob", "join tomorrow")
    label = replies.day_label(TOMORROW + timedelta(days=1), today=TODAY)
    reply = await say("cy", "join")
    assert reply == full_today(label)
    assert fits_one_segment(reply)


async def test_a_customer_already_in_a_full_line_is_told_their_spot(spa):
    await limit(max_waiting=1)
    await say("ann", "join")
    assert "already" in (await say("ann", "join")).lower()


async def test_the_providers_add_goes_past_the_limit_and_says_so(spa):
    await limit(max_waiting=1)
    await say("ann", "join")
    reply = await say("spa", f"add {PHONES['walkin']} Walt")
    assert "past your limits" in reply
    assert fits_one_segment(reply)
    assert PHONES["walkin"] in await waiting_today()
    # Under the limit, ADD's reply is the usual one.
    await limit(max_waiting=None)
    assert "past your limits" not in await say("spa", f"add {PHONES['dee']} Dee")


async def test_close_stops_todays_joins_and_those_waiting_stay_and_are_called(spa):
    await say("ann", "join")
    await say("bob", "join")
    reply = await say("spa", "close")
    assert reply == provider_replies.closed_for_today(waiting=2)
    closed = replies.no_room(place_name="Zen Spa", closed=True, next_day="tomorrow")
    await run([
        ("cy", "join", (), (closed,)),
        ("cy", "join tomorrow", (booked("cy", "spa", TOMORROW),), ()),
        ("spa", "next", (called("ann"),), ("Called Ann",)),
    ])
    assert await waiting_today() == sorted([PHONES["ann"], PHONES["bob"]])


async def test_close_is_stored_so_it_holds_for_any_process_until_open(spa):
    await say("spa", "close")
    account = await ServiceAccount.get(phone=PHONES["spa"])
    assert account.closed_on == TODAY
    assert "closed" in await say("cy", "join", minutes=60)
    assert await say("spa", "open") == provider_replies.opened_for_today(was_closed=True)
    assert "in line" in await say("cy", "join", minutes=61)
    assert await say("spa", "open") == provider_replies.opened_for_today(was_closed=False)


async def test_a_close_ends_with_the_providers_day(spa):
    await say("spa", "close")
    assert "in line" in await say("cy", "join", minutes=DAY)


async def test_the_provider_adds_a_walk_in_while_closed(spa):
    await say("spa", "closed")
    assert "past your limits" in await say("spa", f"add {PHONES['walkin']} Walt")


async def test_three_chairs_divide_the_wait_each_reply_quotes(spa):
    await limit(chairs=3)
    for who in ("ann", "bob", "cy"):
        await say(who, "join")
    # Three 30-minute visits ahead, three at a time.
    reply = await say("dee", "join")
    assert replies.wait_phrase(30) in reply
    assert replies.wait_phrase(30) in await say("dee", "status")
    assert " 30m" in await say("spa", "queue")


async def test_a_booking_without_limits_still_costs_one_read_and_one_insert(spa, monkeypatch):
    conn = sql.connection()
    sent: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(conn, name)

        async def counted(query, *args, _original=original, **kwargs):
            sent.append(query)
            return await _original(query, *args, **kwargs)

        monkeypatch.setattr(conn, name, counted)
    await booking.book(
        user_phone=PHONES["ann"], service_account_phone=PHONES["spa"], appointment_date=TOMORROW,
        now=NOW,
    )
    # The provider's limits and CLOSE come with the read, and the insert is unchanged.
    assert len(sent) == 2, sent
    assert "INSERT INTO appointments" in sent[1]


async def test_provider_help_names_help_more_which_lists_the_day_running_commands(spa):
    first = await say("spa", "help")
    assert first == provider_replies.help_provider()
    assert "HELP MORE" in first
    more = await say("spa", "help more")
    assert more == provider_replies.help_provider_more()
    assert all(word in more for word in ("UNDO", "DELAY", "CLOSE", "OPEN"))
    assert fits_one_segment(first)
    assert fits_one_segment(more)
