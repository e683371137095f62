"""Database configuration, start-up and migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from typing import Any
from urllib.parse import unquote

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.connection import connections
from tortoise.context import TortoiseContext
from tortoise.exceptions import ConfigurationError, DBConnectionError
from tortoise.migrations.api import migrate as migrate_api

from core import connectivity

log = logging.getLogger(__name__)

MODELS_MODULE = "core.models"
MIGRATIONS_MODULE = "core.migrations"


def tortoise_url(database_url: str) -> str:
    """Accept the URL forms people bring (including SQLAlchemy's) and return Tortoise's."""
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL must look like scheme://...")
    scheme = scheme.lower()
    if scheme in {"postgresql", "postgresql+asyncpg", "postgres", "asyncpg"}:
        return f"postgres://{rest}"
    if scheme == "sqlite":
        return f"sqlite://{rest}"
    raise ValueError(f"unsupported database scheme {scheme!r}")


def is_postgres(database_url: str) -> bool:
    """Whether `database_url` names PostgreSQL (several processes and hosts may share it)."""
    return tortoise_url(database_url).startswith("postgres://")


# A silent network must not hang a request forever: bound connecting and each command.
_POSTGRES_LIMITS = {"timeout": 5.0, "command_timeout": 30.0}
# Connections per pool unless DATABASE_URL says (?maxsize=): enough that the bench's
# 32 concurrent requests rarely wait for a connection, which smaller pools showed as a
# higher p99 at the same throughput (bench/RESULTS.md measures the figure in use).
# `waitlist serve` warns when its processes could open more than the server accepts.
POOL_MAXSIZE = 16


async def _release(conn: Any) -> None:
    """Reset a PostgreSQL connection on its way back to the pool.

    asyncpg's default reset (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) is a
    round trip after every query, half of all our statements. We keep no session
    state (no advisory locks, LISTEN or SET), so only an unfinished transaction needs
    undoing.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def connection_config(database_url: str, *, statement_timeout: float = 0.0) -> dict[str, Any]:
    """Tortoise's config of one connection; `statement_timeout` seconds (0: none) bound
    every statement on it (PostgreSQL's statement_timeout, SQLite's busy timeout)."""
    url = tortoise_url(database_url)
    config: dict[str, Any] = expand_db_url(url)
    if not url.startswith("postgres://"):
        # SQLite cannot stop a running statement; what it can bound is the wait for
        # the file's lock (otherwise sqlite3's default, 5 s).
        if statement_timeout > 0:
            config["credentials"]["busy_timeout"] = _milliseconds(statement_timeout)
    else:
        credentials = config["credentials"]
        # A Unix socket's directory arrives percent-encoded, as libpq writes it in a URL
        # (postgres://user@%2Fvar%2Frun%2Fpostgresql/db); asyncpg wants the path.
        credentials["host"] = unquote(credentials.get("host") or "") or None
        for key, value in _POSTGRES_LIMITS.items():
            credentials[key] = float(credentials.get(key, value))
        credentials["maxsize"] = int(credentials.get("maxsize", POOL_MAXSIZE))
        credentials["reset"] = _release
        # Connection loss is reported as one error, where the connection is known.
        credentials["connection_class"] = connectivity.Connection
        credentials["connect"] = connectivity.connect
        if statement_timeout > 0:
            # Set when each connection opens: a statement over it is cancelled by the
            # server (QueryCanceledError) and the connection stays usable.
            credentials["server_settings"] = {
                "statement_timeout": str(_milliseconds(statement_timeout))
            }
    return config


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def listen_params(database_url: str) -> dict[str, Any] | None:
    """asyncpg connect() arguments for a connection of its own outside the pools (the
    screens' LISTEN, webhooks.live; the prune lock, core.services.prune_worker); None
    unless the database is PostgreSQL."""
    config = connection_config(database_url)
    if config["engine"] != "tortoise.backends.asyncpg":
        return None
    credentials = config["credentials"]
    params = {
        key: credentials[key]
        for key in ("host", "port", "user", "password", "database")
        if credentials.get(key) not in (None, "")
    }
    params["timeout"] = credentials["timeout"]
    return params


# The connection that records inbound deliveries (see core.services.sql.deliveries).
DELIVERIES = "deliveries"


def connections_config(database_url: str, *, statement_timeout: float = 0.0) -> dict[str, Any]:
    """ "default" for everything, and on PostgreSQL a "deliveries" pool whose commits
    do not wait for the disk.

    A delivery record only serves to answer a redelivery alike; the first commit of a
    side effect that follows it (synchronous, on "default") writes out the WAL before
    it, the record included. So a crash can only forget records of messages that had
    no durable effect yet, and an SMS STATUS waits for no disk flush at all. SQLite
    keeps one connection: a second writer would only queue behind the first.
    """
    default = connection_config(database_url, statement_timeout=statement_timeout)
    if default["engine"] != "tortoise.backends.asyncpg":
        return {"default": default}
    deliveries = connection_config(database_url, statement_timeout=statement_timeout)
    credentials = deliveries["credentials"]
    credentials["server_settings"] = {
        **credentials.get("server_settings", {}),
        "synchronous_commit": "off",
    }
    return {"default": default, DELIVERIES: deliveries}


def tortoise_config(database_url: str, *, statement_timeout: float = 0.0) -> dict[str, Any]:
    """The whole Tortoise config; `statement_timeout` as for connection_config (the
    server's request paths set one, migrations none)."""
    return {
        "connections": connections_config(database_url, statement_timeout=statement_timeout),
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For `tortoise makemigrations` during development (see pyproject's [tool.tortoise]).
TORTOISE_ORM = tortoise_config("sqlite://waitlist.db")


class StartupError(Exception):
    """The database cannot be used; the message is one line for the operator."""


class MigrationRefused(StartupError):
    """A migration met stored data it cannot carry forward unchanged; nothing of it was
    applied, and the message says what to fix before migrating again."""


def _config_or_fail(database_url: str, statement_timeout: float = 0.0) -> dict[str, Any]:
    try:
        return tortoise_config(database_url, statement_timeout=statement_timeout)
    except (ValueError, ConfigurationError) as exc:
        raise StartupError(f"DATABASE_URL is not usable: {exc}") from None


async def _connect(client: BaseDBAsyncClient, connect_timeout: float) -> None:
    """Open `client`'s connection (pool) now, waiting up to `connect_timeout` seconds
    for a database that is not up yet; an error that waiting cannot fix fails at once.

    Opening it before the first query also keeps Tortoise from hanging: its connection
    wrapper takes a lock, then connects, and never releases the lock when connecting
    fails, so the next query on that connection waited forever.
    """
    if isinstance(client, SqliteClient):
        await _probe_sqlite(client.filename)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connect_timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            await client.create_connection(with_db=True)
            return
        except DBConnectionError as exc:
            # Tortoise's words for a database that does not exist; asyncpg's are clearer.
            cause = exc.__cause__ or exc
            raise StartupError(f"cannot use the database: {cause}") from exc
        except connectivity.DatabaseUnavailable as exc:
            left = deadline - loop.time()
            if left <= 0:
                raise StartupError(
                    f"the database is not reachable ({connectivity.describe(exc.__cause__ or exc)})"
                    f"; gave up after {connect_timeout:g} s (DB_CONNECT_TIMEOUT)"
                ) from exc
            log.warning(
                "database not reachable yet (attempt %d: %s); retrying for up to %.0f s more",
                attempt,
                connectivity.describe(exc.__cause__ or exc),
                left,
            )
            await asyncio.sleep(min(1.0, left))
        except Exception as exc:
            raise StartupError(f"cannot use the database: {connectivity.describe(exc)}") from exc


def _open_sqlite(path: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA schema_version")  # reads the header: not a database fails


async def _probe_sqlite(path: str) -> None:
    """Open the file with sqlite3 first: when aiosqlite fails to open it, its worker
    thread calls back into the event loop after `asyncio.run` has closed it, and dies
    with a traceback of its own."""
    try:
        await asyncio.to_thread(_open_sqlite, path)
    except sqlite3.Error as exc:
        raise StartupError(f"cannot open the SQLite database {path}: {exc}") from None


async def _connect_all(ctx: TortoiseContext, connect_timeout: float) -> None:
    for client in ctx.connections.all():
        await _connect(client, connect_timeout)


async def start(
    database_url: str, *, connect_timeout: float = 0.0, statement_timeout: float = 0.0
) -> TortoiseContext:
    """Start Tortoise with every connection open; StartupError if the database cannot
    be used (after waiting up to `connect_timeout` seconds for one that is not up).
    Every statement is bounded by `statement_timeout` seconds (0: no bound)."""
    ctx = await Tortoise.init(config=_config_or_fail(database_url, statement_timeout))
    try:
        await _connect_all(ctx, connect_timeout)
    except BaseException:
        await ctx.close_connections()
        raise
    return ctx


async def migrate(database_url: str, *, connect_timeout: float = 0.0) -> None:
    """Apply every pending migration, then release the connections it opened
    (StartupError as for `start`)."""
    config = _config_or_fail(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await _connect_all(ctx, connect_timeout)
        await migrate_api(config=config)


async def ping() -> None:
    """One `SELECT 1` on the default connection: the database answers queries."""
    await connections.get("default").execute_query("SELECT 1")


async def connection_budget(database_url: str, *, processes: int) -> tuple[int, int] | None:
    """How many connections `processes` server processes may open at most, and how many
    the PostgreSQL server accepts from ordinary roles; None on SQLite."""
    config = connections_config(database_url)
    if config["default"]["engine"] != "tortoise.backends.asyncpg":
        return None
    wanted = processes * sum(int(c["credentials"]["maxsize"]) for c in config.values())
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        # reserved_connections is PostgreSQL 16's; missing_ok reads it as NULL before.
        rows = await ctx.connections.get("default").execute_query_dict(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - COALESCE(current_setting('reserved_connections', true)::int, 0) AS allowed"
        )
    return wanted, int(rows[0]["allowed"])
