"""Backups restore into a database a server runs from: PostgreSQL's `pg_dump -Fc` and
`pg_restore` into a new database, SQLite's online backup (the API behind the sqlite3
shell's `.backup`) taken while the server writes. The restored copy has the bookings,
needs no migration, and takes new bookings (its sequences came along)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import data_of, today
from tests.conftest import ON_POSTGRES
from tests.server_process import serving

PROVIDER = "+12025550101"


async def seed(base: str, count: int) -> list[int]:
    """A provider and `count` customers booked for today; the bookings' ids."""
    async with aiohttp.ClientSession(base_url=base) as session:
        shop = {"name": "Zen Spa", "phone": PROVIDER, "code": "SPA", "timezone": "UTC"}
        await data_of(await session.post("/service-accounts/", json=shop), 201)
        ids = []
        for n in range(count):
            ids.append(await book(session, f"+141555501{n:02d}"))
        return ids


async def book(session: aiohttp.ClientSession, phone: str) -> int:
    await data_of(await session.post("/users/", json={"name": "Ann Lee", "phone": phone}), 201)
    payload = {
        "user_phone": phone,
        "service_account_phone": PROVIDER,
        "appointment_date": today().isoformat(),
    }
    booked = await data_of(await session.post("/appointments/", json=payload), 201)
    return int(booked["id"])


async def served_queue_and_a_new_booking(base: str) -> tuple[list[int], int]:
    async with aiohttp.ClientSession(base_url=base) as session:
        query = {"service_account_phone": PROVIDER, "day": today().isoformat()}
        queue = await data_of(await session.get("/appointments/", params=query), 200)
        return [a["id"] for a in queue], await book(session, "+14155550199")


def libpq_url(url: str) -> str:
    parts = urlsplit(url)
    return f"postgresql://{parts.netloc}{parts.path}"


async def run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(*command)
    assert await process.wait() == 0, command


async def applied_migrations(url: str) -> list[str]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch("SELECT * FROM tortoise_migrations")
    finally:
        await conn.close()
    names = sorted(str(dict(row).get("name")) for row in rows)
    assert names, "no migration history"
    return names


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump and pg_restore")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs PostgreSQL's client tools")
async def test_a_pg_dump_restored_into_a_new_database_is_served_with_its_bookings(
    database_url, fresh_url, tmp_path
):
    with serving(database_url, tmp_path, name="original") as original:
        booked = await seed(original.base, 3)
    dump = tmp_path / "waitlist.dump"
    await run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq_url(database_url))
    await run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq_url(fresh_url)}", str(dump))

    # The dump carries the migration history: the restored database is as migrated.
    assert await applied_migrations(fresh_url) == await applied_migrations(database_url)
    with serving(fresh_url, tmp_path, name="restored") as restored:
        queue, new_id = await served_queue_and_a_new_booking(restored.base)

    assert queue == booked
    assert new_id > max(booked)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own backup")
async def test_an_online_sqlite_backup_taken_while_the_server_runs_is_served_with_its_bookings(
    database_url, tmp_path
):
    live = Path(database_url.removeprefix("sqlite://"))
    copy = tmp_path / "backup.db"
    with serving(database_url, tmp_path, name="original") as original:
        booked = await seed(original.base, 3)
        # While the server holds the database open (WAL mode), as `sqlite3 waitlist.db
        # ".backup backup.db"` does.
        with sqlite3.connect(live) as source, sqlite3.connect(copy) as target:
            source.backup(target)

    with serving(f"sqlite://{copy}", tmp_path, name="restored") as restored:
        queue, new_id = await served_queue_and_a_new_booking(restored.base)

    assert queue == booked
    assert new_id > max(booked)
