"""The queue page cache: pages served from memory only while their line is unchanged.

Every change is made the way production makes it (the API, another server process on
the same database, or SQL from outside the server) and must show up in the very next
read of a page that was cached before it.
"""

from __future__ import annotations

import re
from typing import Any

import aiosqlite
import asyncpg
import pytest

from tests.api_helpers import (
    ANN,
    BOB,
    PROVIDER,
    book,
    data_of,
    day_after,
    detail_of,
    make_provider,
    make_user,
)
from tests.conftest import ON_POSTGRES, _asyncpg_dsn
from webhooks.state import QUEUE_PAGES

CHANGE_PHONE = "UPDATE users SET phone = $1 WHERE phone = $2"


def pages_of(client: Any) -> Any:
    return client.app[QUEUE_PAGES]


async def read_line(client: Any, day: str | None = None, **params: Any) -> Any:
    # Tomorrow as of the call, as book() reads it: a run crossing midnight stays on one day.
    day = day or day_after(1)
    query = {"service_account_phone": PROVIDER, "day": day, **params}
    return await client.get("/appointments/", params=query)


async def line_ids(client: Any, **params: Any) -> list[int]:
    return [a["id"] for a in await data_of(await read_line(client, **params), 200)]


async def sql_elsewhere(database_url: str, statement: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run one statement ($1, $2... parameters) on a connection of its own, as another
    program would."""
    if ON_POSTGRES:
        conn = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            return [tuple(row) for row in await conn.fetch(statement, *args)]
        finally:
            await conn.close()
    async with aiosqlite.connect(database_url.removeprefix("sqlite://")) as conn:
        rows = await conn.execute_fetchall(re.sub(r"\$\d+", "?", statement), args)
        await conn.commit()
        return [tuple(row) for row in rows]


async def line_version(database_url: str) -> int:
    [(total,)] = await sql_elsewhere(database_url, "SELECT COALESCE(SUM(n), 0) FROM line_versions")
    return int(total)


@pytest.fixture
async def second_client(aiohttp_client, settings):
    """Another server process on the same database: its own app, so its own cache."""
    from webhooks.app import create_app

    return await aiohttp_client(create_app(settings))


async def test_a_second_read_of_an_unchanged_line_is_served_from_the_cache(client):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    await book(client, user=ANN)
    await book(client, user=BOB)
    first = await read_line(client)
    assert first.status == 200
    assert pages_of(client).hits == 0
    second = await read_line(client)
    assert second.status == 200
    assert pages_of(client).hits == 1
    assert await second.read() == await first.read()


async def test_reads_for_one_user_or_without_a_day_are_not_cached(client):
    await make_provider(client)
    await make_user(client)
    await book(client)
    for _ in range(2):
        await data_of(await read_line(client, user_phone=ANN), 200)
        params = {"service_account_phone": PROVIDER}
        await data_of(await client.get("/appointments/", params=params), 200)
    assert (pages_of(client).hits, pages_of(client).misses, len(pages_of(client))) == (0, 0, 0)


async def test_a_booking_shows_up_in_the_next_read_of_a_cached_empty_line(client):
    await make_provider(client)
    await make_user(client)
    assert await line_ids(client) == []
    assert await line_ids(client) == []
    assert pages_of(client).hits == 1
    booked = await book(client)
    assert await line_ids(client) == [booked["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", ""), ("PUT", "/complete"), ("PUT", "/no-show")],
    ids=["cancel", "complete", "no-show"],
)
async def test_a_status_change_shows_up_in_the_next_read(client, method, path):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    # Today's line: a visit is completed or missed on its day.
    today = day_after(0)
    ann = await book(client, user=ANN, day=today)
    bob = await book(client, user=BOB, day=today)
    assert await line_ids(client, day=today) == [ann["id"], bob["id"]]
    await data_of(await client.request(method, f"/appointments/{ann['id']}{path}"), 200)
    assert await line_ids(client, day=today) == [bob["id"]]


async def test_a_users_phone_change_shows_up_in_the_next_read(client, database_url):
    await make_provider(client)
    await make_user(client)
    await book(client)
    before = await data_of(await read_line(client), 200)
    assert [a["user_phone"] for a in before] == [ANN]
    # The API refuses phone changes; the database may still see one (support, a script).
    new_phone = "+14155550199"
    await sql_elsewhere(database_url, CHANGE_PHONE, new_phone, ANN)
    after = await data_of(await read_line(client), 200)
    assert [a["user_phone"] for a in after] == [new_phone]


async def test_a_write_through_another_process_shows_up_in_the_next_read(client, second_client):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    ann = await book(client, user=ANN)
    assert await line_ids(client) == [ann["id"]]
    assert await line_ids(client) == [ann["id"]]
    assert pages_of(client).hits == 1
    bob = await book(second_client, user=BOB)
    assert await line_ids(client) == [ann["id"], bob["id"]]
    await data_of(await second_client.delete(f"/appointments/{ann['id']}"), 200)
    assert await line_ids(client) == [bob["id"]]
    assert pages_of(client).hits == 1


async def test_a_deleted_provider_answers_404_after_its_page_was_cached(client):
    await make_provider(client)
    await make_user(client)
    await book(client)
    assert len(await line_ids(client)) == 1
    response = await client.delete(f"/service-accounts/{PROVIDER}")
    assert response.status == 204
    assert await detail_of(await read_line(client), 404) == "Service account not found"


async def test_the_line_triggers_exist_after_migrating(client, database_url):
    if ON_POSTGRES:
        rows = await sql_elsewhere(
            database_url,
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal",
        )
        expected = {
            ("appointments", "appointments_bump_line"),
            ("users", "users_bump_lines"),
            # Migration 0011: a row inserted without a sort key gets its first one.
            ("appointments", "appointments_first_key"),
        }
    else:
        rows = await sql_elsewhere(
            database_url, "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
        )
        expected = {
            ("appointments", "appointments_bump_line_insert"),
            ("appointments", "appointments_bump_line_update"),
            ("appointments", "appointments_bump_line_delete"),
            ("users", "users_bump_lines"),
            ("appointments", "appointments_first_key"),
        }
    assert set(rows) == expected


async def test_deleting_a_user_with_an_active_appointment_bumps_its_line(client, database_url):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    await book(client, user=ANN)
    bob = await book(client, user=BOB)
    assert len(await line_ids(client)) == 2
    before = await line_version(database_url)
    assert (await client.delete(f"/users/{ANN}")).status == 204
    assert await line_version(database_url) > before
    assert await line_ids(client) == [bob["id"]]


async def test_only_a_real_phone_change_of_a_waiting_user_bumps_lines(client, database_url):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    done = await book(client, user=ANN, day=day_after(0))
    await data_of(await client.put(f"/appointments/{done['id']}/complete"), 200)
    await book(client, user=BOB, day=day_after(0))
    before = await line_version(database_url)
    await sql_elsewhere(database_url, CHANGE_PHONE, "+14155550199", ANN)
    await sql_elsewhere(database_url, CHANGE_PHONE, BOB, BOB)
    await sql_elsewhere(database_url, "UPDATE users SET name = 'Robert' WHERE phone = $1", BOB)
    assert await line_version(database_url) == before
    await sql_elsewhere(database_url, CHANGE_PHONE, "+14155550198", BOB)
    assert await line_version(database_url) == before + 1
