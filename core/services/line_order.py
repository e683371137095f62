"""Who waits in a provider's line, and in what order: the one definition.

A line is one provider's appointments on one day. An appointment is in it while it is
active; it waits while it is active and not yet called. Waiting appointments are
served in the order of their sort key, lowest first: one key per spot, stored on the
appointment as (rank_penalty, rank_at), with the id breaking ties. Booking sets the key
to (penalty, booking time); `set_key` moves a spot by giving it another key, leaving
its stored penalty as it was. Every reader of the line (queue pages, standings, the
per-process rankings, calling next, the provider's QUEUE) builds its SQL or its ORM
query from this module, so changing the order means changing it here.

The status is written as the literal 'active': PostgreSQL's generic plans can only use
the partial indexes that serve the line (`WHERE status = 'active'`, see migration 0011)
when the query says the same literally; a bound parameter cannot match them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Appointment, Status

# The stored sort key's columns, most significant first, and the order they give with
# the id breaking ties. The partial index idx_active_queue is (service_account_id,
# day, *KEY, ...) so each ordering below is an index range.
KEY_COLUMNS = ("rank_penalty", "rank_at")
KEY = (*KEY_COLUMNS, "id")

# The ORM's spelling of the same order and conditions (the ORM binds the status as a
# parameter: those reads use idx_appointments_account_day, not the partial indexes).
ORM_ORDER = KEY
ORM_ACTIVE: dict[str, Any] = {"status": Status.ACTIVE}
ORM_WAITING: dict[str, Any] = {**ORM_ACTIVE, "called_at__isnull": True}
# Called and not yet done or no-show.
ORM_SERVING: dict[str, Any] = {**ORM_ACTIVE, "called_at__isnull": False}


# The partial index that holds every line in its order (migration 0011).
INDEX = "idx_active_queue"
# The databases the statements are written for.
DIALECTS = ("postgres", "sqlite")


def in_line_order(dialect: str) -> str:
    """What follows `appointments <alias>` to read a line in its order, or the part of
    it ahead of a spot: on SQLite, INDEXED BY the line's index. SQLite's planner
    prefers (service_account_id, day, status), which matches one more column, then
    sorts every active appointment of the day for a page of them (or counts them all
    for a spot); walking the line's index reads only the page (or what is ahead).
    PostgreSQL plans the index itself, and has no such clause. A statement that reads
    the whole line gains nothing from it (line_ranks' ranking still sorts)."""
    return f" INDEXED BY {INDEX}" if dialect == "sqlite" else ""


def active(alias: str) -> str:
    """SQL: the appointment `alias` is in its line (waiting or being served)."""
    return f"{alias}.status = 'active'"


def waiting(alias: str) -> str:
    """SQL: the appointment `alias` waits in its line."""
    return f"{active(alias)} AND {alias}.called_at IS NULL"


def order_by(alias: str) -> str:
    """SQL for an ORDER BY: `alias`'s rows in line order, first served first."""
    return ", ".join(f"{alias}.{column}" for column in KEY)


def ahead_of(other: str, me: str) -> str:
    """SQL: `other` is ranked before `me` (same line assumed). A row comparison, so
    that PostgreSQL reads it as a range of idx_active_queue."""
    return f"({order_by(other)}) < ({order_by(me)})"


@dataclass(frozen=True, slots=True)
class SortKey:
    """Where a spot ranks in its line, before the id breaks ties."""

    penalty: float
    at: datetime


def first_key(*, penalty: float, booked_at: datetime) -> SortKey:
    """The key a spot gets when it is booked: lower penalty first, then earlier booking.

    Rows written without a key (plain SQL, another build of the server) get the same
    from the database (migration 0011's trigger).
    """
    return SortKey(penalty=penalty, at=booked_at)


async def set_key(
    *, appointment_id: int, key: SortKey, using_db: BaseDBAsyncClient | None = None
) -> bool:
    """Move an active appointment to `key` in its line; False if it is not active.

    The stored penalty stays; the line's version changes (migration 0008's triggers),
    so cached pages and rankings see the move on their next read.
    """
    changed = await (
        Appointment.filter(id=appointment_id, **ORM_ACTIVE)
        .using_db(using_db)
        .update(rank_penalty=key.penalty, rank_at=key.at)
    )
    return bool(changed)
