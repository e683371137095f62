"""Learned waits through the engine on a real database: completed services change what
JOIN, STATUS and the provider's QUEUE quote, each chat join stores its quote, and
STATS' estimate error becomes a number."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import timedelta

from bot import replies
from core.models import Appointment, OutboxMessage, ServiceAccount, Status, User
from core.rules import service_times
from core.services import booking, sql, stats
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    TODAY,
    say,
    spa,
)


async def quoted(who: str) -> int | None:
    appointment = await Appointment.get(user__phone=PHONES[who], day=TODAY)
    return appointment.quoted_wait_minutes


async def past_services(minutes: list[int]) -> None:
    """Completed services on the days before today, one a day, `minutes` long."""
    account = await ServiceAccount.get(phone=PHONES["spa"])
    for back, length in enumerate(minutes, start=1):
        user = await User.create(name=f"Past {back}", phone=f"+1415555090{back}")
        called = NOW - timedelta(days=back)
        await Appointment.create(
            user=user,
            service_account=account,
            appointment_date=called,
            day=TODAY - timedelta(days=back),
            status=Status.COMPLETED,
            called_at=called,
            status_changed_at=called + timedelta(minutes=length),
            rank_penalty=0.0,
            rank_at=called,
        )


async def test_a_new_shop_quotes_booked_durations_and_stores_the_quote(spa):
    await say("ann", "join")
    reply = await say("bob", "join")
    assert replies.wait_phrase(30) in reply
    assert (await quoted("ann"), await quoted("bob")) == (0, 30)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    assert account.wait_profile is None


async def test_completed_history_turns_the_quotes_into_a_learned_range(spa):
    await past_services([10, 15, 25, 30])
    await say("ann", "join")
    await say("bob", "join", minutes=0.5)
    await say("spa", "next", minutes=1)
    # Ann's 20 minutes complete the history: 10, 15, 20, 25, 30.
    await say("spa", "done", minutes=21)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    profile = service_times.from_json(account.wait_profile)
    assert profile is not None
    assert (profile.overall.n, profile.overall.p25, profile.overall.p50, profile.overall.p75) == (
        5, 15, 20, 25,
    )
    assert account.wait_profile_day == TODAY

    reply = await say("cy", "join", minutes=22)
    assert "#2, 1 ahead, 15-25 min wait" in reply
    assert await quoted("cy") == 20
    assert "15-25 min wait" in await say("cy", "status", minutes=23)
    assert "no wait" in await say("bob", "status", minutes=23)
    assert " 20m" in await say("spa", "queue", minutes=23)


async def test_the_days_estimate_error_is_the_quote_against_the_wait_that_followed(spa):
    await say("ann", "join")
    await say("bob", "join")
    await say("spa", "next", minutes=10)
    await say("spa", "done", minutes=20)
    await say("spa", "next", minutes=50)
    await say("spa", "done", minutes=60)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    found = await stats.period_stats(account=account, word="day", now=NOW + timedelta(hours=2))
    # Ann was quoted no wait and waited 10 min; Bob was quoted 30 and waited 50.
    assert found.total.estimate_error == 15
    assert "Quotes off by 15 min." in await say("spa", "stats", minutes=120)


async def test_an_undone_done_leaves_the_history_it_measured(spa):
    await say("ann", "join")
    await say("spa", "next", minutes=1)
    await say("spa", "done", minutes=21)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    assert account.wait_profile is not None
    await say("spa", "undo", minutes=22)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    assert account.wait_profile is None


async def stored_profile(day) -> None:
    """A profile of 60-minute services stored on `day`, with no history behind it."""
    profile = service_times.Profile(service_times.Spread(40, 50, 60, 70))
    await ServiceAccount.filter(phone=PHONES["spa"]).update(
        wait_profile=service_times.to_json(profile), wait_profile_day=day
    )


async def test_a_profile_from_todays_provider_day_is_quoted_as_stored(spa):
    await stored_profile(TODAY)
    await say("ann", "join")
    assert "50m-1h 10m wait" in await say("bob", "join")


async def test_the_first_join_of_a_later_day_recomputes_the_profile_over_its_window(spa):
    await stored_profile(TODAY - timedelta(days=1))
    await say("ann", "join")
    # Nothing was served in the window: back to the booked durations.
    assert replies.wait_phrase(30) in await say("bob", "join")
    account = await ServiceAccount.get(phone=PHONES["spa"])
    assert (account.wait_profile, account.wait_profile_day) == (None, TODAY)


async def test_a_chat_join_stores_its_quote_without_an_extra_statement(spa, monkeypatch):
    await stored_profile(TODAY)
    await say("ann", "join")
    conn = sql.connection()
    sent: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(conn, name)

        async def counted(query, *args, _original=original, **kwargs):
            sent.append(query)
            return await _original(query, *args, **kwargs)

        monkeypatch.setattr(conn, name, counted)
    account = await ServiceAccount.get(phone=PHONES["spa"])
    sent.clear()
    spot = await booking.join_line(user_phone=PHONES["bob"], account=account, day=TODAY, now=NOW)
    # The context, the spot it takes, the insert carrying the quote: as many as the
    # context, insert and spot read before quotes were stored.
    assert len(sent) == 3, sent
    assert "INSERT INTO appointments" in sent[2]
    assert (spot.wait_minutes, spot.wait_range) == (60, (50, 70))
    assert await quoted("bob") == 60


async def test_the_providers_queue_shows_the_wait_its_customers_are_quoted_delay_included(spa):
    await say("ann", "join")
    await say("bob", "join")
    await say("spa", "delay 20")
    queue = await say("spa", "queue")
    assert "1 Ann B. 0101 20m" in queue
    assert "2 Bob C. 0102 50m" in queue
    assert "about 50 min wait" in await say("bob", "status")


async def test_time_to_head_over_comes_when_the_learned_wait_falls_to_the_travel_time(spa):
    for who in ("ann", "bob", "cy", "dee"):
        await say(who, "join")
    # Booked durations: two 30-minute visits ahead are within 60 minutes' travel.
    assert (await say("cy", "away 60")).startswith("Time to head over")
    await stored_profile(TODAY)
    # Learned: three 60-minute services ahead are not.
    assert (await say("dee", "away 60")).startswith("Got it, 60 min away")
    heading = OutboxMessage.filter(recipient=PHONES["dee"], idempotency_key__startswith="headover:")
    await say("spa", "next", minutes=1)
    # Two ahead: 60 booked minutes would be within it, 120 learned ones are not.
    assert not await heading.exists()
    await say("spa", "next", minutes=2)
    assert await heading.count() == 1
