"""One definition of the line's order: a spot moved by setting its sort key is seen
moved by every reader (queue pages, cached or not, standings, cached rankings, the
provider's QUEUE, calling next, DONE by position), and its penalty stays as stored."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from core.models import Appointment
from core.services import (
    appointment_views,
    booking,
    calling,
    line_order,
    line_pages,
    lines,
    queue_pages,
    service_accounts,
    standings,
    status_changes,
    users,
)
from core.services.line_ranks import RankCache
from webhooks.schemas import AppointmentOut

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
SPA = "+12025550179"


def customer(n: int) -> str:
    return f"+1415555{n:04d}"


async def _line_of(size: int) -> list[int]:
    account = await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    ids = []
    for n in range(size):
        await users.create_user(name=f"Customer {n}", phone=customer(n))
        booked = await booking.book(
            user_phone=customer(n),
            service_account_phone=account.phone,
            appointment_date=TODAY,
            duration_minutes=10,
            now=NOW + timedelta(minutes=n),
        )
        ids.append(booked.id)
    return ids


async def _queue_ids(cache: line_pages.PageCache | None = None) -> list[int]:
    selection = queue_pages.QueueSelection(service_account_phone=SPA, day=TODAY)
    page = await queue_pages.queue_json(selection, now=NOW, cache=cache)
    return [item["id"] for item in orjson.loads(page)]


async def _position(n: int, ranks: RankCache) -> int:
    [standing] = await standings.standings(user_phone=customer(n), now=NOW, ranks=ranks)
    assert standing.spot is not None
    return standing.spot.position


async def test_a_spot_moved_by_its_key_is_seen_moved_by_every_reader_of_the_line(orm):
    ids = await _line_of(4)
    pages, ranks = line_pages.PageCache(), RankCache()
    # Read before the move, twice, so that both caches hold the line.
    for _ in range(2):
        assert await _queue_ids(pages) == ids
        assert await _position(3, ranks) == 4
    assert ranks.loads == 1

    # The last one moves to just behind the first: the first's key, a later id.
    first = await Appointment.get(id=ids[0])
    assert first.rank_penalty is not None
    assert first.rank_at is not None
    key = line_order.SortKey(penalty=first.rank_penalty, at=first.rank_at)
    assert await line_order.set_key(appointment_id=ids[3], key=key)

    moved = [ids[0], ids[3], ids[1], ids[2]]
    assert await _queue_ids(pages) == moved
    assert await _queue_ids() == moved
    views = await queue_pages.queue(
        queue_pages.QueueSelection(service_account_phone=SPA, day=TODAY), now=NOW
    )
    assert [view.id for view in views] == moved
    account = await service_accounts.get_service_account(phone=SPA)
    listed = await appointment_views.account_appointments(service_account_id=account.id)
    assert [view.id for view in listed] == moved
    # The stored penalty is what the API shows, unchanged by the move.
    assert {view.penalty for view in views} == {0.0}

    for _ in range(2):
        assert [await _position(n, ranks) for n in (0, 3, 1, 2)] == [1, 2, 3, 4]
    assert [await _position(n, RankCache()) for n in (0, 3, 1, 2)] == [1, 2, 3, 4]
    spot = await lines.spot(appointment_id=ids[3])
    assert spot is not None
    assert (spot.position, spot.wait_minutes) == (2, 10)
    waiting = await lines.waiting(service_account_id=account.id, day=TODAY, limit=10)
    assert [a.id for a in waiting] == moved
    second = await calling.closable(service_account_phone=SPA, position=2, now=NOW)
    assert second is not None
    assert second.id == ids[3]

    called = [await calling.call_next(service_account_phone=SPA, now=NOW) for _ in range(2)]
    assert [c.appointment.id for c in called if c is not None] == [ids[0], ids[3]]
    assert await _position(1, ranks) == 1


async def test_a_key_can_only_be_set_on_an_active_appointment(orm):
    ids = await _line_of(1)
    await status_changes.cancel(appointment_id=ids[0], now=NOW)
    key = line_order.SortKey(penalty=-1.0, at=NOW)
    assert not await line_order.set_key(appointment_id=ids[0], key=key)


def test_the_appointment_view_has_exactly_the_fields_of_the_apis_appointment():
    names = [field.name for field in dataclasses.fields(appointment_views.AppointmentView)]
    assert names == list(AppointmentOut.model_fields)
    assert tuple(names) == appointment_views.FIELDS


async def test_on_sqlite_a_queue_page_walks_the_lines_index_instead_of_sorting_the_day(orm):
    from tortoise import connections

    from core.services.statements import bind
    from tests.conftest import ON_POSTGRES

    if ON_POSTGRES:
        pytest.skip("SQLite's planner; PostgreSQL chooses the line's index itself")
    await _line_of(3)
    conn = connections.get("default")
    # The statistics of a database in use (the bench's: 110,005 appointments, most of
    # them past, 2,728 waiting in one provider's day), under which SQLite's planner
    # prefers the (service_account_id, day, status) index and sorts the whole day.
    await conn.execute_script("ANALYZE")
    await conn.execute_script(
        "DELETE FROM sqlite_stat1 WHERE tbl = 'appointments';"
        "INSERT INTO sqlite_stat1 VALUES"
        " ('appointments', 'idx_active_queue', '30005 15003 6001 2728 1 1 1 1'),"
        " ('appointments', 'idx_appointments_account_day', '110005 36669 22 22'),"
        " ('appointments', 'idx_appointments_user', '110005 4 1'),"
        " ('appointments', 'uniq_active_appointment_per_user_day', '30005 1 1');"
        "ANALYZE sqlite_schema;"
    )
    statement = queue_pages._statement(
        one_day=True, by_user=False, as_json=False, dialect=conn.capabilities.dialect
    )
    values = {"account": SPA, "since": TODAY.isoformat(), "user": None, "limit": 100, "skip": 0}
    query, args = bind(conn, "EXPLAIN QUERY PLAN " + statement, values)
    plan = " | ".join(row["detail"] for row in await conn.execute_query_dict(query, args))
    assert f"USING INDEX {line_order.INDEX}" in plan, plan
    # The page comes off the index in order: nothing is sorted for it.
    assert "TEMP B-TREE" not in plan, plan
    assert [item for item in await _queue_ids()] == sorted(await _queue_ids())
