"""HERE (ON MY WAY) and WHY through the engine on a real database: a called customer's
confirmation is recorded once and told to the provider, and WHY explains a customer's
own record with a provider, and nobody else's."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot import replies, spot_replies
from core.models import Appointment, OutboxMessage, Status
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment
from core.services import booking, service_accounts, status_changes, users
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    became,
    booked,
    called,
    run,
    say,
    spa,
    two_places,
)


async def confirmed_at(who: str) -> datetime | None:
    appointment = await Appointment.get(user__phone=PHONES[who], status=Status.ACTIVE)
    return appointment.confirmed_at


async def notices_to(who: str) -> list[str]:
    return list(
        await OutboxMessage.filter(recipient=PHONES[who]).order_by("id").values_list(
            "text", flat=True
        )
    )


# HERE ---------------------------------------------------------------------------


async def test_a_called_customer_who_texts_here_is_recorded_once_and_the_provider_told(spa):
    await say("ann", "join")
    await say("bob", "join")
    await run([
        ("spa", "next", (called("ann"),), ("Called Ann B.",)),
        ("ann", "I'm here!", (), (spot_replies.coming_confirmed(place_name="Zen Spa"),)),
    ])
    first = await confirmed_at("ann")
    assert first is not None
    told = notice_texts.coming(name="Ann Bell", phone=PHONES["ann"])
    assert await notices_to("spa") == [told]

    # A second confirm answers again, and changes nothing.
    reply = await say("ann", "on my way", minutes=3)
    assert reply == spot_replies.coming_confirmed(place_name="Zen Spa")
    assert await confirmed_at("ann") == first
    assert await notices_to("spa") == [told]
    assert await confirmed_at("bob") is None


@pytest.mark.parametrize(
    "text", ["here", "HERE.", "I'm here", "on my way", "On my way!!", "omw", "Coming", "coming!"]
)
async def test_every_way_of_saying_it_confirms(spa, text):
    await say("ann", "join")
    await say("spa", "next")
    reply = await say("ann", text)
    assert reply == spot_replies.coming_confirmed(place_name="Zen Spa")
    assert await confirmed_at("ann") is not None


async def test_a_customer_not_called_yet_gets_their_place_and_nothing_is_recorded(spa):
    for who in ("ann", "bob", "cy"):
        await say(who, "join")
    await say("spa", "next")
    reply = await say("cy", "here")
    assert reply.startswith("Zen Spa today: #2, 1 ahead")
    assert "not your turn yet" in reply
    assert fits_one_segment(reply)
    assert await confirmed_at("cy") is None
    assert await notices_to("spa") == []


async def test_here_from_someone_in_no_line_says_so(spa):
    assert await say("ann", "here") == replies.not_in_line()


async def test_here_after_the_visit_was_closed_is_not_a_confirmation(spa):
    await say("ann", "join")
    await say("spa", "next")
    await say("spa", "done")
    assert await say("ann", "omw") == replies.not_in_line()
    assert await notices_to("spa") == []


async def test_the_providers_queue_marks_a_called_customer_who_confirmed(spa):
    for who in ("ann", "bob", "cy"):
        await say(who, "join")
    await say("spa", "next")
    await say("spa", "next")
    await say("bob", "coming")
    queue = await say("spa", "queue")
    assert "Now: Ann B. (***0101), Bob C. (***0102) coming." in queue
    assert fits_one_segment(queue)


async def test_not_coming_is_still_leaving(spa):
    await say("ann", "join")
    await say("spa", "next")
    await run([("ann", "sorry, not coming", (became("ann", "spa", "canceled"),), ("left",))])


# WHY ----------------------------------------------------------------------------


async def _history(who: str, *, cancelled_days_ago: float, no_show_days_ago: float) -> None:
    """One cancellation and one no-show at the spa, that long ago (oldest first, as
    the running score takes them)."""
    events = sorted(
        [
            (cancelled_days_ago, status_changes.cancel),
            (no_show_days_ago, status_changes.mark_no_show),
        ],
        key=lambda event: -event[0],
    )
    for days_ago, change in events:
        then = NOW - timedelta(days=days_ago)
        view = await booking.book(
            user_phone=PHONES[who],
            service_account_phone=PHONES["spa"],
            appointment_date=then.date(),
            now=then,
        )
        await change(appointment_id=view.id, now=then)


async def test_why_explains_the_customers_own_cancellations_and_no_shows(spa):
    await _history("ann", cancelled_days_ago=10, no_show_days_ago=20)
    await _history("bob", cancelled_days_ago=1, no_show_days_ago=2)
    await say("ann", "join")
    reply = await say("ann", "why am I #2")
    # 2^(-10/30) + 2 x 2^(-20/30) = 2.05, below 1 after 30 x log2(2.05) = 31.1 days.
    assert reply == (
        "Zen Spa: 1 cancellation, 1 no-show count (each halves every 30 days). "
        "Your weight today: 2.05. Below one cancellation's (1) from Sat 19 Dec."
    )
    assert fits_one_segment(reply)


async def test_why_with_a_clean_record_says_the_place_is_by_joining_time(spa):
    await _history("bob", cancelled_days_ago=1, no_show_days_ago=2)
    await say("ann", "join")
    await run([("ann", "why am I last", (), (spot_replies.why_clean(place_name="Zen Spa"),))])


async def test_why_once_the_weight_is_under_one_cancellation_says_so(spa):
    await _history("ann", cancelled_days_ago=40, no_show_days_ago=90)
    reply = await say("ann", "why")
    assert reply.startswith("Zen Spa: 1 cancellation, 1 no-show count")
    assert reply.endswith("That is below one cancellation's (1).")


async def test_events_faded_below_a_hundredth_no_longer_count(spa):
    await _history("ann", cancelled_days_ago=300, no_show_days_ago=350)
    assert await say("ann", "why?") == spot_replies.why_clean(place_name="Zen Spa")


async def test_why_without_scoring_is_a_clean_record(orm):
    await service_accounts.create_service_account(
        phone=PHONES["spa"], name="Zen Spa", code="SPA", enable_cancellation_scoring=False
    )
    await users.create_user(name="Ann Bell", phone=PHONES["ann"])
    await _history("ann", cancelled_days_ago=1, no_show_days_ago=2)
    assert await say("ann", "why") == spot_replies.why_clean(place_name="Zen Spa")


async def test_why_explains_the_place_of_the_customers_spot(two_places):
    await _history("ann", cancelled_days_ago=1, no_show_days_ago=2)
    await run([("ann", "join gdn", (booked("ann", "gdn", date(2026, 11, 18)),), ())])
    assert await say("ann", "why") == spot_replies.why_clean(place_name="Zen Garden")
    assert (await say("ann", "why spa")).startswith("Zen Spa: 1 cancellation")


async def test_why_from_a_customer_in_no_line_asks_about_the_only_place(spa):
    await _history("ann", cancelled_days_ago=1, no_show_days_ago=2)
    assert (await say("ann", "why")).startswith("Zen Spa: 1 cancellation, 1 no-show")


async def test_why_in_no_line_with_several_places_names_none(two_places):
    assert await say("ann", "why") == replies.not_in_line()


async def test_the_readmes_worked_example_reads_as_the_readme_says(spa):
    await _history("ann", cancelled_days_ago=30, no_show_days_ago=60)
    assert await say("ann", "why") == (
        "Zen Spa: 1 cancellation, 1 no-show count (each halves every 30 days). "
        "Your weight today: 1. Below one cancellation's (1) from today."
    )
