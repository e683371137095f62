"""DB_STATEMENT_TIMEOUT: no statement of the server holds a pool connection for longer,
and a request stopped by it answers 503 with a detail, not a 500."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from tortoise import connections

from core import db
from core.settings import Settings
from tests.api_helpers import ANN, make_user
from tests.conftest import ON_POSTGRES, _asyncpg_dsn
from webhooks.app import create_app

on_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's statement_timeout")
on_sqlite = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's busy timeout")


@on_postgres
async def test_a_statement_longer_than_the_timeout_is_cancelled_and_the_pool_serves_on(
    database_url,
):
    ctx = await db.start(database_url, statement_timeout=0.3)
    try:
        for name in ("default", db.DELIVERIES):
            conn = connections.get(name)
            started = time.monotonic()
            with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
                await conn.execute_query("SELECT pg_sleep(3)")
            assert time.monotonic() - started < 2
            assert (await conn.execute_query_dict("SELECT 1 AS one"))[0]["one"] == 1
            [row] = await conn.execute_query_dict("SHOW statement_timeout")
            assert row["statement_timeout"] == "300ms"
        [row] = await connections.get(db.DELIVERIES).execute_query_dict(
            "SHOW synchronous_commit"
        )
        assert row["synchronous_commit"] == "off"
    finally:
        await ctx.close_connections()


@on_postgres
async def test_a_request_stuck_past_the_timeout_answers_503_and_the_next_one_is_served(
    aiohttp_client, database_url
):
    settings = Settings(_env_file=None, database_url=database_url, db_statement_timeout=0.5)  # type: ignore[call-arg]
    client = await aiohttp_client(create_app(settings))
    await make_user(client)
    holder = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        # Another session holds the table (as a long migration or a stuck query would).
        await holder.execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        stuck = await client.get(f"/users/{ANN}")
        took = time.monotonic() - started
        await holder.execute("ROLLBACK")
    finally:
        await holder.close()

    assert stuck.status == 503
    assert "too long" in (await stuck.json())["detail"]
    assert took < 3
    served = await asyncio.gather(*(client.get(f"/users/{ANN}") for _ in range(20)))
    assert [r.status for r in served] == [200] * 20


def test_migrations_run_without_a_statement_timeout_and_the_server_with_one():
    url = "postgres://postgres@127.0.0.1:5432/test"

    migrating = db.tortoise_config(url)["connections"]
    serving = db.tortoise_config(url, statement_timeout=5)["connections"]

    assert "statement_timeout" not in migrating["default"]["credentials"].get("server_settings", {})
    for name in ("default", db.DELIVERIES):
        assert serving[name]["credentials"]["server_settings"]["statement_timeout"] == "5000"
    assert Settings(_env_file=None).db_statement_timeout == 5  # type: ignore[call-arg]


@on_sqlite
async def test_on_sqlite_the_timeout_bounds_the_wait_for_the_files_lock(database_url):
    ctx = await db.start(database_url, statement_timeout=1.5)
    try:
        [row] = await connections.get("default").execute_query_dict("PRAGMA busy_timeout")
        assert next(iter(row.values())) == 1500
    finally:
        await ctx.close_connections()
