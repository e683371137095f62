"""The growth scenario's history: years of a platform's past, written with COPY.

At `--growth-scale 1.0`: 10,000 providers, 1 million users, 10 million past
appointments (ten per user, at two providers each, with the running scores those
leave) and 10 million answered inbound messages. The small database gets the same
shape at 1/1000 of it.

The tables' secondary indexes and unique constraints are dropped before the COPY and
built afterwards (one sorted build is far cheaper than millions of insertions), the
seeding session runs with session_replication_role = replica so no trigger or
foreign-key check fires, and ANALYZE ends it, as autovacuum would on a database in use.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.databases import asyncpg_dsn
from bench.seed import APPOINTMENT_COLUMNS

# The tables the history fills, and so the ones whose indexes are built after it.
TABLES = ("service_accounts", "users", "appointments", "reliability_scores", "inbound_messages")
APPOINTMENTS_PER_USER = 10
# The days the past appointments fall on: the last two years.
HISTORY_DAYS = 730
# The days the inbound messages were received over.
MESSAGE_DAYS = 30
CHUNK = 50_000
# Phones of the history's people, apart from the bench's own (bench.seed.user_phone).
USER_PHONES = 18_000_000_000
PROVIDER_PHONES = 17_000_000_000
REPLY = "Serene Spa today: #3, 2 ahead, about 20 min."


@dataclass(frozen=True, slots=True)
class Shape:
    providers: int
    users: int
    appointments: int
    messages: int

    @classmethod
    def at(cls, scale: float) -> Shape:
        users = max(10, round(1_000_000 * scale))
        return cls(
            providers=max(2, round(10_000 * scale)),
            users=users,
            appointments=users * APPOINTMENTS_PER_USER,
            messages=max(10, round(10_000_000 * scale)),
        )

    def describe(self) -> str:
        return (
            f"{self.providers:,} providers, {self.users:,} users, "
            f"{self.appointments:,} past appointments, {self.messages:,} inbound messages"
        )


@dataclass(frozen=True, slots=True)
class Seeded:
    shape: Shape
    seconds: float
    # Seconds of each step: COPY per table, the index builds, ANALYZE.
    steps: dict[str, float]


def _status(user: int, k: int) -> str:
    h = (user * 7 + k * 3) % 25
    return "no_show" if h < 2 else "canceled" if h < 5 else "completed"


async def _text(lines: Iterator[str]) -> AsyncIterator[bytes]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


class _History:
    """The rows, generated in order, as COPY text lines; each user's appointments
    alternate between their two providers, and leave one running score per provider
    they missed or left."""

    def __init__(self, shape: Shape, now: datetime) -> None:
        self.shape, self.now = shape, now.isoformat()
        today = now.date()
        days = [today - timedelta(days=1 + d) for d in range(HISTORY_DAYS)]
        moments = [datetime(d.year, d.month, d.day, 10, 30, tzinfo=UTC) for d in days]
        self.days = [d.isoformat() for d in days]
        self.moments = [m.isoformat() for m in moments]
        # Per day: the booking two hours before the visit, its end twenty minutes after.
        self.booked = [(m - timedelta(hours=2)).isoformat() for m in moments]
        self.ended = [(m + timedelta(minutes=20)).isoformat() for m in moments]
        self.scores: list[str] = []

    def providers(self) -> Iterator[str]:
        for p in range(1, self.shape.providers + 1):
            yield (
                f"{p}\tHistory provider {p}\t+{PROVIDER_PHONES + p}\t{self.now}"
                "\tt\t1.0\t2.0\tUTC\t30.0\n"
            )

    def users(self) -> Iterator[str]:
        for u in range(1, self.shape.users + 1):
            yield f"{u}\tHistory {u}\t+{USER_PHONES + u}\t{self.now}\n"

    def appointments(self) -> Iterator[str]:
        providers, next_id = self.shape.providers, 1
        days, moments, booked, ended = self.days, self.moments, self.booked, self.ended
        for u in range(1, self.shape.users + 1):
            mine = (1 + u % providers, 1 + (u * 7 + 3) % providers)
            missed: dict[int, list[int]] = {}
            for k in range(APPOINTMENTS_PER_USER):
                p = mine[k % 2]
                d = (u * 13 + k * 71) % HISTORY_DAYS
                status = _status(u, k)
                if status != "completed":
                    counts = missed.setdefault(p, [0, 0, HISTORY_DAYS])
                    counts[0 if status == "canceled" else 1] += 1
                    # The days go back from yesterday: the smallest index is the latest.
                    counts[2] = min(counts[2], d)
                yield (
                    f"{next_id}\t{u}\t{p}\t{moments[d]}\t{days[d]}\t30\t\\N\t{status}\t0"
                    f"\t{booked[d]}\t{ended[d]}\t0\t{booked[d]}\n"
                )
                next_id += 1
            for p, (canceled, no_shows, latest) in missed.items():
                self.scores.append(f"{u}\t{p}\t{canceled}\t{no_shows}\t{ended[latest]}\n")

    def messages(self) -> Iterator[str]:
        # Twilio's MessageSids are random: the unique index gets them in no order.
        rng = random.Random(16)
        now = datetime.fromisoformat(self.now)
        # One received time per minute back over MESSAGE_DAYS, shared by that minute's.
        minutes = [(now - timedelta(minutes=m)).isoformat() for m in range(MESSAGE_DAYS * 1440)]
        per_minute = max(1, self.shape.messages // len(minutes) + 1)
        for n in range(1, self.shape.messages + 1):
            user = 1 + n % self.shape.users
            yield (
                f"{n}\tsms\tSM{rng.getrandbits(128):032x}\t+{USER_PHONES + user}"
                f"\t{REPLY}\t{minutes[(n // per_minute) % len(minutes)]}\n"
            )


# bench.seed's columns with the id first: the history's rows carry their own ids.
_APPOINTMENT_COLUMNS = ("id", *APPOINTMENT_COLUMNS)
_COLUMNS = {
    "service_accounts": (
        "id",
        "name",
        "phone",
        "created_at",
        "enable_cancellation_scoring",
        "cancellation_weight",
        "no_show_weight",
        "timezone",
        "penalty_half_life_days",
    ),
    "users": ("id", "name", "phone", "created_at"),
    "appointments": _APPOINTMENT_COLUMNS,
    "reliability_scores": ("user_id", "service_account_id", "cancellations", "no_shows", "as_of"),
    "inbound_messages": ("id", "channel", "external_id", "phone", "reply", "created_at"),
}


async def _secondary_indexes(conn: asyncpg.Connection) -> tuple[list[str], list[str], list[str]]:
    """What to drop before the COPY, and the statements that build it again after."""
    constraints = await conn.fetch(
        "SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY($1)",
        list(TABLES),
    )
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def"
        " FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        list(TABLES),
    )
    drops = [f'ALTER TABLE {c["tab"]} DROP CONSTRAINT "{c["conname"]}"' for c in constraints]
    drops += [f"DROP INDEX {i['name']}" for i in indexes]
    builds = [i["def"] for i in indexes]
    adds = [f'ALTER TABLE {c["tab"]} ADD CONSTRAINT "{c["conname"]}" {c["def"]}' for c in constraints]
    return drops, builds, adds


async def seed(database_url: str, shape: Shape) -> Seeded:
    """Write the history into a freshly migrated database, then align its sequences
    past it (see `align_sequences`)."""
    began = time.monotonic()
    steps: dict[str, float] = {}
    history = _History(shape, datetime.now(UTC))
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("SET session_replication_role = replica")
        drops, builds, adds = await _secondary_indexes(conn)
        for statement in drops:
            await conn.execute(statement)
        generators: dict[str, Callable[[], Iterator[str]]] = {
            "service_accounts": history.providers,
            "users": history.users,
            "appointments": history.appointments,
            "inbound_messages": history.messages,
        }
        generators["reliability_scores"] = lambda: iter(history.scores)
        for table, lines in generators.items():
            start = time.monotonic()
            await conn.copy_to_table(table, source=_text(lines()), columns=_COLUMNS[table])
            steps[f"COPY {table}"] = time.monotonic() - start
        start = time.monotonic()
        for statement in builds + adds:
            await conn.execute(statement)
        steps["indexes"] = time.monotonic() - start
        start = time.monotonic()
        await conn.execute("ANALYZE")
        steps["ANALYZE"] = time.monotonic() - start
    finally:
        await conn.close()
    return Seeded(shape, time.monotonic() - began, steps)


async def align_sequences(urls: list[str]) -> None:
    """Set every sequence of each database to the same value, past every id either holds.

    The scenarios seed both databases alike through one TwinSeeder, which requires the
    ids it hands out (providers, users, appointments) to come out the same in both.
    """
    conns = [await asyncpg.connect(asyncpg_dsn(url)) for url in urls]
    try:
        sequences = await conns[0].fetch(
            "SELECT s.relname AS seq, t.relname AS tab, a.attname AS col FROM pg_class s"
            " JOIN pg_depend d ON d.objid = s.oid JOIN pg_class t ON t.oid = d.refobjid"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
            " WHERE s.relkind = 'S'"
        )
        for row in sequences:
            top = 0
            for conn in conns:
                found = await conn.fetchval(f'SELECT max("{row["col"]}") FROM "{row["tab"]}"')
                top = max(top, int(found or 0))
            for conn in conns:
                await conn.execute("SELECT setval($1::regclass, $2)", row["seq"], top + 1)
    finally:
        for conn in conns:
            await conn.close()


async def sizes(database_url: str) -> dict[str, int]:
    """Bytes of the database and of each of the history's tables (with their indexes)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        found = {"database": int(await conn.fetchval("SELECT pg_database_size(current_database())"))}
        for table in TABLES:
            found[table] = int(await conn.fetchval("SELECT pg_total_relation_size($1)", table))
        return found
    finally:
        await conn.close()
