"""Spots in line from per-process rankings: the same answer as counting, always.

The rankings are kept while a line's version is unchanged; every change made to the
line (booking, leaving, a call, SQL from another program) must show in the very next
STATUS, and a line that changes between every two questions is not ranked at all.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise import connections

from core.errors import DomainError
from core.rules.queue_spot import Spot
from core.services import booking, calling, service_accounts, standings, status_changes, users
from core.services.line_ranks import RankCache, Ranking
from core.services.statements import bind
from tests.test_queue_cache import sql_elsewhere

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
SPA = "+12025550179"


def customer(n: int) -> str:
    return f"+1415555{n:04d}"


@pytest.fixture
def ranks() -> RankCache:
    """The application's rankings, as the app would hold them for one database."""
    return RankCache()


async def status(phone: str, ranks: RankCache) -> list[standings.Standing]:
    """What a STATUS from `phone` tells, with the application's rankings."""
    return await standings.standings(user_phone=phone, now=NOW, ranks=ranks)


async def exact(phone: str) -> list[standings.Standing]:
    """The standings counted in SQL, in one snapshot: what the cache must agree with."""
    return await standings._exact(connections.get("default"), user_phone=phone, now=NOW)


async def line_of(size: int, *, minutes: int = 10) -> list[int]:
    """A spa line of `size` customers booked a minute apart; their appointment ids."""
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    ids = []
    for n in range(size):
        await users.create_user(name=f"Customer {n}", phone=customer(n))
        booked = await booking.book(
            user_phone=customer(n),
            service_account_phone=SPA,
            appointment_date=TODAY,
            duration_minutes=minutes,
            now=NOW + timedelta(minutes=n),
        )
        ids.append(booked.id)
    return ids


def spot_of(found: list[standings.Standing]) -> Spot | None:
    [standing] = found
    return standing.spot


# The ranking itself: plain data, no I/O ------------------------------------------------


def test_a_ranking_gives_each_waiting_appointment_its_place_and_the_minutes_ahead():
    ranking = Ranking.of(7, [(30, 10), (12, 20), (25, 15)])
    assert ranking.version == 7
    assert ranking.spot(30) == Spot(position=1, ahead=0, wait_minutes=0)
    assert ranking.spot(12) == Spot(position=2, ahead=1, wait_minutes=10)
    assert ranking.spot(25) == Spot(position=3, ahead=2, wait_minutes=30)
    assert len(ranking) == 3


def test_a_ranking_knows_nothing_of_appointments_not_waiting_in_it():
    ranking = Ranking.of(1, [(5, 10), (9, 10)])
    assert ranking.spot(1) is None
    assert ranking.spot(7) is None
    assert ranking.spot(10) is None
    assert Ranking.of(0, []).spot(5) is None


def test_the_cache_ranks_a_line_only_once_it_was_read_twice_at_one_version():
    ranks = RankCache()
    key = (1, TODAY)
    assert ranks.get(key, 4) is None
    assert ranks.quiet(key, 4) is False
    assert ranks.quiet(key, 5) is False, "changed since: not at rest"
    assert ranks.quiet(key, 5) is True
    ranks.put(key, Ranking.of(5, [(1, 10)]))
    assert ranks.get(key, 5) is not None
    assert ranks.get(key, 6) is None
    assert ranks.quiet(key, 6) is False, "a new version replaces the ranking with a marker"
    assert ranks.appointments_held == 0


def test_the_cache_drops_the_least_recently_used_lines_beyond_its_appointment_bound():
    ranks = RankCache(max_appointments=5)
    ranks.put((1, TODAY), Ranking.of(1, [(1, 10), (2, 10)]))
    ranks.put((2, TODAY), Ranking.of(1, [(3, 10), (4, 10)]))
    assert ranks.get((1, TODAY), 1) is not None  # now the most recently used
    ranks.put((3, TODAY), Ranking.of(1, [(5, 10), (6, 10)]))
    assert ranks.get((2, TODAY), 1) is None
    assert ranks.get((1, TODAY), 1) is not None
    assert ranks.get((3, TODAY), 1) is not None
    assert ranks.appointments_held == 4


def test_one_line_longer_than_the_bound_is_still_kept_alone():
    ranks = RankCache(max_appointments=2)
    ranks.put((1, TODAY), Ranking.of(1, [(1, 10), (2, 10), (3, 10)]))
    assert ranks.get((1, TODAY), 1) is not None
    ranks.put((2, TODAY), Ranking.of(1, [(4, 10)]))
    assert ranks.get((1, TODAY), 1) is None
    assert len(ranks) == 1


# Against the database --------------------------------------------------------------


async def test_an_unchanged_line_is_ranked_once_and_then_answered_from_memory(orm, ranks):
    await line_of(5)
    first = await status(customer(3), ranks)
    assert ranks.loads == 0, "one read is not enough to rank a whole line"
    second = await status(customer(3), ranks)
    assert ranks.loads == 1
    for n in range(5):
        found = await status(customer(n), ranks)
        assert spot_of(found) == Spot(position=n + 1, ahead=n, wait_minutes=10 * n)
    assert first == second == await exact(customer(3))
    assert ranks.loads == 1
    assert ranks.hits == 5


async def test_a_booking_leaving_and_a_call_each_show_in_the_next_status(orm, ranks):
    ids = await line_of(4)
    for _ in range(2):
        await status(customer(3), ranks)
    assert spot_of(await status(customer(3), ranks)).position == 4

    await status_changes.cancel(appointment_id=ids[0], now=NOW)
    assert spot_of(await status(customer(3), ranks)).position == 3

    await calling.call_next(service_account_phone=SPA, now=NOW)
    assert spot_of(await status(customer(3), ranks)).position == 2
    assert spot_of(await status(customer(1), ranks)) is None

    # A newcomer with a worse history would rank behind; a clean one books at the back.
    await users.create_user(name="Late", phone=customer(9))
    await booking.book(
        user_phone=customer(9),
        service_account_phone=SPA,
        appointment_date=TODAY,
        duration_minutes=10,
        now=NOW + timedelta(hours=1),
    )
    assert spot_of(await status(customer(9), ranks)).position == 3
    assert await status(customer(3), ranks) == await exact(customer(3))


async def test_a_change_from_another_program_shows_in_the_next_status(orm, database_url, ranks):
    ids = await line_of(3)
    for _ in range(3):
        await status(customer(2), ranks)
    assert ranks.loads == 1
    # Another program moves the last customer to the front by setting their sort key.
    await sql_elsewhere(database_url, "UPDATE appointments SET rank_penalty = -1 WHERE id = $1", ids[2])
    assert spot_of(await status(customer(2), ranks)) == Spot(
        position=1, ahead=0, wait_minutes=0
    )
    assert spot_of(await status(customer(0), ranks)).position == 2


async def test_a_customer_called_between_the_two_reads_is_told_it_is_their_turn(orm):
    """The rows say 'waiting', the line no longer has them: all is read again at once."""
    ids = await line_of(3)
    conn = connections.get("default")
    query, args = bind(
        conn,
        standings._STANDINGS,
        {"phone": customer(0), "since": standings.since_param(conn, NOW)},
    )
    rows = await conn.execute_query_dict(query, args)
    assert rows[0]["s_called_at"] is None
    await calling.call_next(service_account_phone=SPA, now=NOW)
    found = await standings.standings_from(rows, user_phone=customer(0), now=NOW)
    assert [(s.appointment_id, s.spot) for s in found] == [(ids[0], None)]


async def test_a_line_that_changes_between_every_two_reads_is_never_ranked(orm, ranks):
    await line_of(3)
    for n in range(4, 10):
        await status(customer(2), ranks)
        await users.create_user(name=f"Customer {n}", phone=customer(n))
        await booking.book(
            user_phone=customer(n),
            service_account_phone=SPA,
            appointment_date=TODAY,
            duration_minutes=10,
            now=NOW + timedelta(minutes=n),
        )
    assert ranks.loads == 0
    assert spot_of(await status(customer(2), ranks)).position == 3


async def test_every_status_agrees_with_counting_through_random_changes(orm, ranks):
    """Bookings, cancellations, calls and completions in a seeded random order; after
    each, every customer's standings (read twice, so the cache answers) equal the
    count in SQL."""
    rng = random.Random(20261125)
    ids = await line_of(8)
    phones = [customer(n) for n in range(8)]
    booked = dict(zip(phones, ids, strict=True))
    next_customer = 8
    for _ in range(25):
        action = rng.choice(("book", "cancel", "call", "complete", "read"))
        if action == "book":
            phone = customer(next_customer)
            await users.create_user(name=f"Customer {next_customer}", phone=phone)
            view = await booking.book(
                user_phone=phone,
                service_account_phone=SPA,
                appointment_date=TODAY,
                duration_minutes=rng.choice((10, 20, 45)),
                now=NOW + timedelta(minutes=next_customer),
            )
            booked[phone] = view.id
            phones.append(phone)
            next_customer += 1
        elif action == "cancel":
            phone = rng.choice(phones)
            await _quietly(status_changes.cancel(appointment_id=booked[phone], now=NOW))
        elif action == "call":
            await calling.call_next(service_account_phone=SPA, now=NOW)
        elif action == "complete":
            phone = rng.choice(phones)
            await _quietly(status_changes.complete(appointment_id=booked[phone], now=NOW))
        for phone in phones:
            for _ in range(2):
                assert await status(phone, ranks) == await exact(phone)
    assert ranks.hits > 0
    assert ranks.loads > 0


async def _quietly(change: Awaitable[object]) -> None:
    """A change the rules may refuse (already cancelled, not yet called)."""
    with contextlib.suppress(DomainError):
        await change
