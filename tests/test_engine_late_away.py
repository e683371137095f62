"""LATE and AWAY through the engine on a real database: a late customer moves back
behind those served before they get there, at most twice, with notices for those who
move up; a called customer's LATE tells the provider; a customer on their way hears
"time to head over" once, when their wait falls to their travel time."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import asyncio

import pytest

from bot import replies, spot_replies
from core.models import Appointment, OutboxMessage, Status
from core.rules import lateness, notice_texts
from core.rules.gsm import fits_one_segment
from core.rules.queue_spot import Spot
from core.services import lateness as lateness_service
from core.services import lines
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    TODAY,
    say,
    spa,
)


async def line() -> list[str]:
    """Who waits at the spa today, first first."""
    account_id = (await Appointment.first()).service_account_id
    waiting = await lines.waiting(service_account_id=account_id, day=TODAY, limit=50)
    names = {phone: who for who, phone in PHONES.items()}
    return [names[a.user.phone] for a in waiting]


async def mine(who: str) -> Appointment:
    return await Appointment.get(user__phone=PHONES[who], status=Status.ACTIVE)


async def texts_to(who: str) -> list[str]:
    return list(
        await OutboxMessage.filter(recipient=PHONES[who]).order_by("id").values_list(
            "text", flat=True
        )
    )


async def four_waiting() -> None:
    # A minute apart: each spot's key is its own.
    for minute, who in enumerate(("ann", "bob", "cy", "dee")):
        await say(who, "join", minutes=minute)


async def test_late_moves_the_customer_behind_those_served_before_they_arrive(spa):
    await four_waiting()
    before = await mine("ann")
    # Each spot takes 30 minutes: only Bob (now) is served within 15.
    reply = await say("ann", "late", minutes=5)
    assert reply == spot_replies.moved_back(
        place_name="Zen Spa", spot=Spot(position=2, ahead=1, wait_minutes=30)
    )
    assert fits_one_segment(reply)
    assert await line() == ["bob", "ann", "cy", "dee"]
    after = await mine("ann")
    assert after.penalty == before.penalty
    assert after.late_moves == 1
    # Bob moved up to first and hears it; Ann now second hears she is up soon.
    assert notice_texts.you_are_next(place_name="Zen Spa") in await texts_to("bob")
    assert notice_texts.up_soon(place_name="Zen Spa") in await texts_to("ann")


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("I'll be 20 min late", ["bob", "ann", "cy", "dee"]),
        ("running late 45", ["bob", "cy", "ann", "dee"]),
        ("45 min late", ["bob", "cy", "ann", "dee"]),
        ("late 240", ["bob", "cy", "dee", "ann"]),
    ],
)
async def test_the_minutes_decide_how_far_back_and_past_the_line_means_the_end(
    spa, text, order
):
    await four_waiting()
    await say("ann", text, minutes=5)
    assert await line() == order


async def test_a_third_late_is_refused_and_the_spot_stays(spa):
    await four_waiting()
    await say("ann", "late", minutes=5)
    await say("ann", "late 45", minutes=6)
    assert await line() == ["bob", "cy", "ann", "dee"]
    reply = await say("ann", "late 45", minutes=7)
    assert reply == spot_replies.late_limit(
        place_name="Zen Spa", spot=Spot(position=3, ahead=2, wait_minutes=60)
    )
    assert await line() == ["bob", "cy", "ann", "dee"]
    assert (await mine("ann")).late_moves == lateness.MAX_LATE_MOVES


async def test_late_with_nobody_served_before_they_arrive_keeps_the_place_uncounted(spa):
    await four_waiting()
    reply = await say("dee", "late 15", minutes=5)
    assert reply == spot_replies.kept_place(
        place_name="Zen Spa", spot=Spot(position=4, ahead=3, wait_minutes=90)
    )
    assert (await mine("dee")).late_moves == 0


async def test_a_called_customer_who_is_late_hears_they_are_awaited_and_the_provider_is_told(
    spa,
):
    await four_waiting()
    await say("spa", "next", minutes=5)
    reply = await say("ann", "I'll be 10 min late", minutes=6)
    # Called at 15:05 with the default 15 min of grace, and 10 more for being late.
    assert reply == spot_replies.late_held(place_name="Zen Spa", until="15:30")
    told = notice_texts.running_late(name="Ann Bell", phone=PHONES["ann"], minutes=10)
    assert await texts_to("spa") == [told]
    assert await line() == ["bob", "cy", "dee"]


async def test_late_from_someone_in_no_line_says_so(spa):
    assert await say("ann", "late") == replies.not_in_line()


async def test_away_is_stored_and_head_over_comes_once_instead_of_up_soon(spa):
    await four_waiting()
    reply = await say("dee", "I'm 20 min away", minutes=5)
    assert reply == spot_replies.away_noted(
        place_name="Zen Spa", spot=Spot(position=4, ahead=3, wait_minutes=90), travel_minutes=20
    )
    assert (await mine("dee")).travel_minutes == 20
    await say("spa", "next", minutes=10)  # Dee: 60 min to wait
    await say("spa", "next", minutes=40)  # Dee second, 30 min: not yet, and no "up soon"
    assert await texts_to("dee") == []
    await say("spa", "next", minutes=70)  # Dee first, 0 min: time to head over
    head_over = notice_texts.head_over(place_name="Zen Spa", wait_minutes=0)
    assert fits_one_segment(head_over)
    await say("spa", "done 1", minutes=71)
    notices = await texts_to("dee")
    assert notices.count(head_over) == 1
    assert notice_texts.up_soon(place_name="Zen Spa") not in notices
    assert notice_texts.you_are_next(place_name="Zen Spa") in notices


async def test_away_when_already_within_reach_says_to_head_over_now(spa):
    await four_waiting()
    reply = await say("bob", "25 minutes out", minutes=5)
    assert reply == spot_replies.away_go_now(
        place_name="Zen Spa", spot=Spot(position=2, ahead=1, wait_minutes=30)
    )
    await say("spa", "next", minutes=10)
    assert not any("head over" in t for t in await texts_to("bob"))
    # Saying it again still answers that it is time to go.
    reply = await say("bob", "AWAY 25", minutes=11)
    assert reply == spot_replies.away_go_now(
        place_name="Zen Spa", spot=Spot(position=1, ahead=0, wait_minutes=0)
    )


async def test_away_without_minutes_asks_how_far(spa):
    await four_waiting()
    assert await say("ann", "away") == spot_replies.away_how_far()
    assert (await mine("ann")).travel_minutes is None


async def test_lates_at_once_count_each_move_and_never_pass_the_limit(spa):
    await four_waiting()
    ann = await mine("ann")
    moves = await asyncio.gather(
        *(
            lateness_service.late(appointment_id=ann.id, minutes=minutes, now=NOW)
            for minutes in (5, 45, 75, 5)
        )
    )
    moved = [m for m in moves if m.outcome is lateness_service.Outcome.MOVED]
    stored = (await mine("ann")).late_moves
    assert 1 <= len(moved) == stored <= lateness.MAX_LATE_MOVES
    # Wherever Ann ended up, the last move's answer says it.
    assert (await line()).index("ann") + 1 == max(m.spot.position for m in moved)
