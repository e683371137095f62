"""Database configuration, start-up and migrations."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

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


# A silent network must not hang a request forever: bound connecting and each command.
_POSTGRES_LIMITS = {"timeout": 5.0, "command_timeout": 30.0}
# Connections per pool unless DATABASE_URL says (?maxsize=). With 32 concurrent
# requests in the bench, Tortoise's 5 doubled the SMS p99 against 10 (120 to 130 ms
# against 58 to 66 ms); 16 cut the p99 of bookings from 28 to 17 ms, of SMS from 23 to
# 16 ms and of queue pages from 9 to 7 ms against 10, at the same throughput and CPU.
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


def connection_config(database_url: str) -> dict[str, Any]:
    url = tortoise_url(database_url)
    config: dict[str, Any] = expand_db_url(url)
    if url.startswith("postgres://"):
        credentials = config["credentials"]
        # A Unix socket's directory arrives percent-encoded, as libpq writes it in a URL
        # (postgres://user@%2Fvar%2Frun%2Fpostgresql/db); asyncpg wants the path.
        credentials["host"] = unquote(credentials.get("host") or "") or None
        for key, value in _POSTGRES_LIMITS.items():
            credentials[key] = float(credentials.get(key, value))
        credentials["maxsize"] = int(credentials.get("maxsize", POOL_MAXSIZE))
        credentials["reset"] = _release
    return config


# The connection that records inbound deliveries (see core.services.sql.deliveries).
DELIVERIES = "deliveries"


def connections_config(database_url: str) -> dict[str, Any]:
    """ "default" for everything, and on PostgreSQL a "deliveries" pool whose commits
    do not wait for the disk.

    A delivery record only serves to answer a redelivery alike; the first commit of a
    side effect that follows it (synchronous, on "default") writes out the WAL before
    it, the record included. So a crash can only forget records of messages that had
    no durable effect yet, and an SMS STATUS waits for no disk flush at all. SQLite
    keeps one connection: a second writer would only queue behind the first.
    """
    default = connection_config(database_url)
    if default["engine"] != "tortoise.backends.asyncpg":
        return {"default": default}
    deliveries = connection_config(database_url)
    deliveries["credentials"]["server_settings"] = {"synchronous_commit": "off"}
    return {"default": default, DELIVERIES: deliveries}


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": connections_config(database_url),
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


async def start(database_url: str) -> TortoiseContext:
    return await Tortoise.init(config=tortoise_config(database_url))


async def migrate(database_url: str) -> None:
    """Apply every pending migration, then release the connections it opened."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        await migrate_api(config=tortoise_config(database_url))


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
