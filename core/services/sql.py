"""Raw SQL on hot paths, written once for both dialects.

The ORM's per-query work (building the query, making model objects) counts on the
busiest paths; booking, the queue, standings and the who-read use the connection's own
query methods instead. Only placeholders and the types a raw SQLite row carries (dates
and datetimes come back as text) differ by dialect.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from core.db import DELIVERIES


def connection() -> BaseDBAsyncClient:
    conn: BaseDBAsyncClient = connections.get("default")
    return conn


def deliveries() -> BaseDBAsyncClient:
    """The connection for recording inbound deliveries and their replies.

    On PostgreSQL its commits return before the disk flush (see core.db.connections_config);
    elsewhere it is the default connection.
    """
    conn = connection()
    if conn.capabilities.dialect != "postgres":
        return conn
    deliveries: BaseDBAsyncClient = connections.get(DELIVERIES)
    return deliveries


def params(conn: BaseDBAsyncClient, count: int) -> list[str]:
    """Placeholders for `count` parameters: `?` on SQLite, `$1..$n` on PostgreSQL."""
    if conn.capabilities.dialect == "sqlite":
        return ["?"] * count
    return [f"${i}" for i in range(1, count + 1)]


def as_datetime(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_date(value: Any) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    assert isinstance(value, date)
    return value


def day_param(conn: BaseDBAsyncClient, value: date) -> Any:
    """A DateField value as a raw parameter: SQLite keeps days as ISO text."""
    return value.isoformat() if conn.capabilities.dialect == "sqlite" else value


def datetime_param(conn: BaseDBAsyncClient, value: datetime) -> Any:
    """A DatetimeField value as a raw parameter, stored as Tortoise stores it."""
    return str(value.astimezone(UTC)) if conn.capabilities.dialect == "sqlite" else value
