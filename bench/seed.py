"""Seeding the migrated schema directly, fast enough for tens of thousands of rows.

Rows are written with plain SQL (COPY on PostgreSQL, executemany on SQLite) in the
shapes the ORM writes, so the server reads them as its own. Phones follow the
API's rule: `+` and 7 to 17 digits.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.databases import asyncpg_dsn
from core.rules import penalty as penalty_rules


def user_phone(index: int) -> str:
    """Bench users: +1 and ten digits, the same format booking.lua builds."""
    return f"+1{index:010d}"


@dataclass(frozen=True, slots=True)
class Provider:
    id: int
    phone: str


USER_COLUMNS = ("name", "phone", "email", "created_at")
# The spot's first sort key (core.services.line_order.first_key), last in each row.
KEY_COLUMNS = ("rank_penalty", "rank_at")
APPOINTMENT_COLUMNS = (
    "user_id",
    "service_account_id",
    "appointment_date",
    "day",
    "duration_minutes",
    "notes",
    "status",
    "penalty",
    "created_at",
    "status_changed_at",
    *KEY_COLUMNS,
)


def _appointment(
    user_id: int,
    provider_id: int,
    day: date,
    *,
    status: str,
    penalty: float,
    created_at: datetime,
    changed_at: datetime | None = None,
) -> tuple[Any, ...]:
    moment = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
    key = (penalty, created_at)
    return (user_id, provider_id, moment, day, 30, None, status, penalty, created_at, changed_at, *key)


def history_rows(
    user_id: int, provider_id: int, events: int, *, now: datetime
) -> tuple[list[tuple[Any, ...]], penalty_rules.Score]:
    """`events` past canceled / no-show appointments, one a day going back, and their score."""
    rows: list[tuple[Any, ...]] = []
    score: penalty_rules.Score | None = None
    for age in range(events, 0, -1):
        day = (now - timedelta(days=age)).date()
        changed = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        status = "canceled" if age % 3 else "no_show"
        event = penalty_rules.Event.CANCELED if age % 3 else penalty_rules.Event.NO_SHOW
        score = penalty_rules.record_event(score, event, at=changed, half_life_days=30.0)
        rows.append(
            _appointment(
                user_id,
                provider_id,
                day,
                status=status,
                penalty=0.0,
                created_at=changed - timedelta(days=1),
                changed_at=changed,
            )
        )
    assert score is not None
    return rows, score


# Past any day a bench books; the calendar's end (9999-12-31) bounds it in the server.
FAR_AHEAD_DAYS = 3_000_000


class Seeder(ABC):
    """One database's seeding; the scenarios only speak to this."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def provider(self, phone: str, name: str, code: str | None = None) -> Provider: ...

    @abstractmethod
    async def users(self, phones: list[str]) -> dict[str, int]:
        """Create users; return their ids by phone."""

    async def appointments(self, rows: list[tuple[Any, ...]]) -> None:
        """Write appointment rows (APPOINTMENT_COLUMNS), without the sort key where the
        schema has none (a build from before stored keys: it orders by penalty)."""
        if await self.has_column("appointments", "rank_at"):
            await self.rows("appointments", APPOINTMENT_COLUMNS, rows)
            return
        kept = len(APPOINTMENT_COLUMNS) - len(KEY_COLUMNS)
        await self.rows("appointments", APPOINTMENT_COLUMNS[:kept], [row[:kept] for row in rows])

    @abstractmethod
    async def score(self, user_id: int, provider_id: int, score: penalty_rules.Score) -> None: ...

    @abstractmethod
    async def scalar(self, sql: str) -> Any:
        """One value from SQL written to run on both databases."""

    @abstractmethod
    async def column(self, sql: str) -> list[Any]:
        """The first column of every row, from SQL written to run on both databases."""

    @abstractmethod
    async def analyze(self) -> None:
        """Refresh planner statistics, as autovacuum would on a database in use."""

    @abstractmethod
    async def execute(self, sql: str) -> None:
        """Run one statement written to run on both databases."""

    @abstractmethod
    async def has_column(self, table: str, column: str) -> bool: ...

    async def open_far_ahead(self, provider: Provider) -> None:
        """Let `provider` take bookings as far ahead as the calendar goes: the history
        scenario books a new day per request, years ahead. A build from before booking
        horizons has neither the column nor the limit."""
        if await self.has_column("service_accounts", "booking_horizon_days"):
            await self.execute(
                f"UPDATE service_accounts SET booking_horizon_days = {FAR_AHEAD_DAYS}"
                f" WHERE id = {int(provider.id)}"
            )

    @abstractmethod
    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Write `rows` into `table` as they are."""

    async def sms_history(self, phones: list[str], *, per_phone: int, now: datetime) -> None:
        """What earlier texts left behind: `per_phone` answered deliveries from each phone
        over the last ten days, its contact row and its expired rate window.

        A service in use has these; without them the tables start empty, PostgreSQL
        plans their lookups as scans of a table of one page, and keeps those plans until
        autovacuum's first ANALYZE, a minute into the run.
        """
        spread = timedelta(days=10) / per_phone
        deliveries = [
            (
                "sms",
                # Keyed by phone, so two scenarios' customers never share a MessageSid.
                f"SMhist{phone.lstrip('+')}{k:04d}",
                phone,
                "Bench provider today: #1, 0 ahead, no wait.",
                now - spread * (k + 1),
            )
            for phone in phones
            for k in range(per_phone)
        ]
        columns: tuple[str, ...] = ("channel", "external_id", "phone", "reply", "created_at")
        if await self.has_column("inbound_messages", "received_on"):
            # The dedupe key's day (migration 0022), as the server writes it.
            columns += ("received_on",)
            deliveries = [(*row, row[-1].astimezone(UTC).date()) for row in deliveries]
        await self.rows("inbound_messages", columns, deliveries)
        await self.rows(
            "contacts",
            ("phone", "opted_out", "preferred_channel", "updated_at"),
            [(phone, False, "sms", now - timedelta(days=10)) for phone in phones],
        )
        await self.rows(
            "inbound_rates",
            ("channel", "phone", "window_start", "seen"),
            [("sms", phone, now - spread, 1) for phone in phones],
        )

    async def speaking(self, phones: list[str], language: str) -> None:
        """These phones' contacts written to in `language`, as their own first words would
        have left them (a build without languages has nothing to set)."""
        if not await self.has_column("contacts", "language"):
            return
        # Our own generated phones and a catalog's code: nothing to quote.
        listed = ", ".join(f"'{phone}'" for phone in phones)
        await self.execute(f"UPDATE contacts SET language = '{language}' WHERE phone IN ({listed})")

    async def queue(self, provider: Provider, day: date, first_user: int, count: int) -> None:
        """`count` people waiting on `day`, with a spread of penalties and booking times."""
        ids = await self.users([user_phone(i) for i in range(first_user, first_user + count)])
        start = datetime.now(UTC) - timedelta(hours=2)
        rows = [
            _appointment(
                user_id,
                provider.id,
                day,
                status="active",
                penalty=float(n % 7) * 0.5,
                created_at=start + timedelta(seconds=n),
            )
            for n, user_id in enumerate(ids.values())
        ]
        await self.appointments(rows)

    async def history_user(self, phone: str, provider: Provider, events: int) -> None:
        user_id = (await self.users([phone]))[phone]
        rows, score = history_rows(user_id, provider.id, events, now=datetime.now(UTC))
        await self.appointments(rows)
        await self.score(user_id, provider.id, score)


class PostgresSeeder(Seeder):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @classmethod
    async def connect(cls, database_url: str) -> PostgresSeeder:
        return cls(await asyncpg.connect(asyncpg_dsn(database_url)))

    async def close(self) -> None:
        await self._conn.close()

    async def provider(self, phone: str, name: str, code: str | None = None) -> Provider:
        row = await self._conn.fetchrow(
            "INSERT INTO service_accounts (name, phone, email, description, created_at,"
            " enable_cancellation_scoring, cancellation_weight, no_show_weight, timezone,"
            " penalty_half_life_days, code)"
            " VALUES ($1, $2, NULL, 'bench', now(), true, 1.0, 2.0, 'UTC', 30.0, $3)"
            " RETURNING id",
            name,
            phone,
            code,
        )
        return Provider(id=row["id"], phone=phone)

    async def users(self, phones: list[str]) -> dict[str, int]:
        now = datetime.now(UTC)
        await self._conn.copy_records_to_table(
            "users",
            records=[(f"Bench {phone[-6:]}", phone, None, now) for phone in phones],
            columns=USER_COLUMNS,
        )
        rows = await self._conn.fetch(
            "SELECT id, phone FROM users WHERE phone = ANY($1::varchar[])", phones
        )
        by_phone = {row["phone"]: row["id"] for row in rows}
        return {phone: by_phone[phone] for phone in phones}

    async def score(self, user_id: int, provider_id: int, score: penalty_rules.Score) -> None:
        await self._conn.execute(
            "INSERT INTO reliability_scores (user_id, service_account_id, cancellations,"
            " no_shows, as_of) VALUES ($1, $2, $3, $4, $5)",
            user_id,
            provider_id,
            score.cancellations,
            score.no_shows,
            score.as_of,
        )

    async def scalar(self, sql: str) -> Any:
        return await self._conn.fetchval(sql)

    async def column(self, sql: str) -> list[Any]:
        return [row[0] for row in await self._conn.fetch(sql)]

    async def execute(self, sql: str) -> None:
        await self._conn.execute(sql)

    async def has_column(self, table: str, column: str) -> bool:
        found = await self._conn.fetchval(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = $1 AND column_name = $2",
            table,
            column,
        )
        return bool(found)

    async def analyze(self) -> None:
        await self._conn.execute("ANALYZE")

    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        await self._conn.copy_records_to_table(table, records=rows, columns=columns)


def _sqlite_value(value: Any) -> Any:
    """Tortoise stores datetimes as str(aware datetime) and dates as ISO text on SQLite."""
    if isinstance(value, datetime | date):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteSeeder(Seeder):
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path)

    async def close(self) -> None:
        self._db.close()

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        with self._db:
            self._db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )

    async def provider(self, phone: str, name: str, code: str | None = None) -> Provider:
        now = datetime.now(UTC)
        self._insert(
            "service_accounts",
            (
                "name",
                "phone",
                "description",
                "created_at",
                "enable_cancellation_scoring",
                "cancellation_weight",
                "no_show_weight",
                "timezone",
                "penalty_half_life_days",
                "code",
            ),
            [(name, phone, "bench", now, True, 1.0, 2.0, "UTC", 30.0, code)],
        )
        (provider_id,) = self._db.execute(
            "SELECT id FROM service_accounts WHERE phone = ?", (phone,)
        ).fetchone()
        return Provider(id=provider_id, phone=phone)

    async def users(self, phones: list[str]) -> dict[str, int]:
        now = datetime.now(UTC)
        self._insert(
            "users", USER_COLUMNS, [(f"Bench {phone[-6:]}", phone, None, now) for phone in phones]
        )
        by_phone: dict[str, int] = {}
        for start in range(0, len(phones), 500):
            chunk = phones[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for user_id, phone in self._db.execute(
                f"SELECT id, phone FROM users WHERE phone IN ({marks})", chunk
            ):
                by_phone[phone] = user_id
        return {phone: by_phone[phone] for phone in phones}

    async def score(self, user_id: int, provider_id: int, score: penalty_rules.Score) -> None:
        self._insert(
            "reliability_scores",
            ("user_id", "service_account_id", "cancellations", "no_shows", "as_of"),
            [(user_id, provider_id, score.cancellations, score.no_shows, score.as_of)],
        )

    async def scalar(self, sql: str) -> Any:
        row = self._db.execute(sql).fetchone()
        return None if row is None else row[0]

    async def column(self, sql: str) -> list[Any]:
        return [row[0] for row in self._db.execute(sql).fetchall()]

    async def execute(self, sql: str) -> None:
        with self._db:
            self._db.execute(sql)

    async def has_column(self, table: str, column: str) -> bool:
        rows = self._db.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()
        return any(name == column for (name,) in rows)

    async def analyze(self) -> None:
        with self._db:
            self._db.execute("ANALYZE")

    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        self._insert(table, columns, rows)


class TwinSeeder(Seeder):
    """Seeds two databases alike: this build's and the build before's own.

    Each build then serves a schema its own migrations made, so a schema change (a new
    column, an index rebuilt) is measured as each build would run it, never one build
    on the other's tables. Every call goes to both, in the same order, so ids (of
    providers, users) come out the same; a call whose answers differ is an error,
    since the scenarios pass those answers on. Reads (`scalar`, `has_column`) are the
    first database's: check the other through its own seeder.
    """

    def __init__(self, first: Seeder, second: Seeder) -> None:
        self.first, self.second = first, second

    async def close(self) -> None:
        await self.first.close()
        await self.second.close()

    async def _both(self, name: str, *args: Any, **kwargs: Any) -> Any:
        answer = await getattr(self.first, name)(*args, **kwargs)
        other = await getattr(self.second, name)(*args, **kwargs)
        if answer != other:
            raise RuntimeError(f"the two bench databases diverged at {name}: {answer} != {other}")
        return answer

    async def provider(self, phone: str, name: str, code: str | None = None) -> Provider:
        found: Provider = await self._both("provider", phone, name, code)
        return found

    async def users(self, phones: list[str]) -> dict[str, int]:
        ids: dict[str, int] = await self._both("users", phones)
        return ids

    async def appointments(self, rows: list[tuple[Any, ...]]) -> None:
        await self._both("appointments", rows)

    async def score(self, user_id: int, provider_id: int, score: penalty_rules.Score) -> None:
        await self._both("score", user_id, provider_id, score)

    async def scalar(self, sql: str) -> Any:
        return await self.first.scalar(sql)

    async def column(self, sql: str) -> list[Any]:
        return await self.first.column(sql)

    async def analyze(self) -> None:
        await self._both("analyze")

    async def execute(self, sql: str) -> None:
        await self._both("execute", sql)

    async def has_column(self, table: str, column: str) -> bool:
        return await self.first.has_column(table, column)

    # The composite steps run whole on each database, so each asks its own schema
    # (has_column) and uses its own ids.
    async def open_far_ahead(self, provider: Provider) -> None:
        await self._both("open_far_ahead", provider)

    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        await self._both("rows", table, columns, rows)

    async def sms_history(self, phones: list[str], *, per_phone: int, now: datetime) -> None:
        await self._both("sms_history", phones, per_phone=per_phone, now=now)

    async def speaking(self, phones: list[str], language: str) -> None:
        await self._both("speaking", phones, language)

    async def queue(self, provider: Provider, day: date, first_user: int, count: int) -> None:
        await self._both("queue", provider, day, first_user, count)

    async def history_user(self, phone: str, provider: Provider, events: int) -> None:
        await self._both("history_user", phone, provider, events)
