"""Shared fixtures: a real database built by the migrations, per test.

The database comes from WAITLIST_TEST_DATABASE_URL: unset means SQLite (a migrated
template file copied per test); a postgres:// URL means a fresh database created for
this pytest process, migrated once and truncated between tests. Run SQLite and
PostgreSQL in separate processes: Tortoise caches SQL per dialect.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core import db

# The browser tests' fixtures and their CI count (tests/browser.py).
pytest_plugins = ("tests.browser",)

TEST_DATABASE_URL = os.environ.get("WAITLIST_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql://"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with every migration applied, made once per pytest process."""
    if ON_POSTGRES:
        asyncio.run(_drop_abandoned(TEST_DATABASE_URL))
        name = f"waitlist_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
        url = _with_database(TEST_DATABASE_URL, name)
        asyncio.run(db.migrate(url))
        yield url
        asyncio.run(_admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        asyncio.run(db.migrate(f"sqlite://{path}"))
        yield str(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_abandoned(url: str) -> None:
    """Drop test databases left by runs that were killed (their process is gone)."""
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'waitlist\\_test\\_%'"
        )
        for row in rows:
            pid = row["datname"].split("_")[2]
            if pid.isdigit() and not _alive(int(pid)):
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


_TABLES_TO_KEEP = {"tortoise_migrations"}


async def _truncate(url: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [r["tablename"] for r in rows if r["tablename"] not in _TABLES_TO_KEEP]
        if tables:
            quoted = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def database_url(database_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if ON_POSTGRES:
        await _truncate(database_template)
        return database_template
    path = tmp_path / "waitlist.db"
    shutil.copyfile(database_template, path)
    return f"sqlite://{path}"


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database, not the suite's migrated template (for migration tests)."""
    if not ON_POSTGRES:
        yield f"sqlite://{tmp_path / 'old.db'}"
        return
    name = f"waitlist_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(TEST_DATABASE_URL, name)
    finally:
        await _admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def orm(database_url: str) -> AsyncIterator[str]:
    """Tortoise started on the test database, for tests that call services directly."""
    ctx = await db.start(database_url)
    try:
        yield database_url
    finally:
        await ctx.close_connections()


@pytest.fixture
def settings(database_url: str):
    from core.settings import Settings

    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
async def client(aiohttp_client, settings):
    """The real app over real HTTP on loopback."""
    from webhooks.app import create_app

    return await aiohttp_client(create_app(settings))
