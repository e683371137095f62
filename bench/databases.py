"""Fresh PostgreSQL databases and SQLite files for a run, built by `waitlist migrate`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants postgresql:// and knows nothing of Tortoise's pool parameters."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


async def recreate_postgres(admin_url: str, name: str) -> str:
    """Drop and create database `name`; return its URL."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_postgres(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite://{path}"


def migrate(waitlist: list[str], database_url: str, *, cwd: Path, log: Path) -> None:
    """Build the schema the way a user does: `waitlist migrate`."""
    env = {**os.environ, "DATABASE_URL": database_url}
    with log.open("a") as out:
        done = subprocess.run(
            [*waitlist, "migrate"], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise RuntimeError(f"`waitlist migrate` failed for {database_url}; see {log}")
