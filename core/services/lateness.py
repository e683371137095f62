"""LATE and AWAY: a waiting customer moving back in their line because they will be
late, and a customer saying how far away they are.

A LATE move sets the spot's sort key (line_order.set_key) to lie strictly between its
two new neighbours; its stored penalty stays. Those who move up hear the usual notices
in the same transaction (notices.line_moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.errors import InvalidTransition, NotFound
from core.models import Appointment
from core.rules import grace as grace_rules
from core.rules import lateness
from core.rules.days import utcnow
from core.rules.queue_spot import Spot
from core.services import grace, line_events, line_order, lines, notices, sql
from core.services.statements import bind


class Outcome(StrEnum):
    MOVED = "moved"
    # Nobody behind would be served before the customer gets there: the spot stays.
    STAYED = "stayed"
    # The spot already moved MAX_LATE_MOVES times.
    LIMIT = "limit"


@dataclass(frozen=True, slots=True)
class LateMove:
    outcome: Outcome
    place_name: str
    # Where the spot stands after the LATE (as before, unless moved).
    spot: Spot


# A page of those waiting behind the appointment {id}, in line order. Also read past the
# last row of a page by giving that row's id.
_BEHIND = {
    dialect: f"""
SELECT o.id, o.rank_penalty, o.rank_at, o.duration_minutes
FROM appointments me
JOIN appointments o{line_order.in_line_order(dialect)}
  ON o.service_account_id = me.service_account_id AND o.day = me.day
 AND {line_order.waiting("o")} AND {line_order.ahead_of("me", "o")}
WHERE me.id = {{id}}
ORDER BY {line_order.order_by("o")}
LIMIT {{limit}}
"""  # noqa: S608 - built from constants only; values are bound parameters
    for dialect in line_order.DIALECTS
}
_PAGE = 50


async def _behind(
    conn: BaseDBAsyncClient, *, appointment_id: int, start_wait: int, minutes: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """Those behind the appointment, in order, until the first whose wait (counted
    without it, from `start_wait`) reaches `minutes`, and each one's wait."""
    rows: list[dict[str, Any]] = []
    waits: list[int] = []
    wait, after = start_wait, appointment_id
    while True:
        query, args = bind(
            conn, _BEHIND[conn.capabilities.dialect], {"id": after, "limit": _PAGE}
        )
        page = await conn.execute_query_dict(query, args)
        for row in page:
            rows.append(row)
            waits.append(wait)
            if wait >= minutes:
                return rows, waits
            wait += int(row["duration_minutes"])
        if len(page) < _PAGE:
            return rows, waits
        after = page[-1]["id"]


def _placed(row: dict[str, Any]) -> lateness.Placed:
    key = lateness.Key(float(row["rank_penalty"]), sql.as_datetime(row["rank_at"]))
    return lateness.Placed(key, int(row["id"]))


async def _waiting(conn: BaseDBAsyncClient, appointment_id: int) -> Appointment:
    # Locked, so that two LATEs at once count twice: PostgreSQL locks no outer join,
    # so the provider is read apart.
    appointment = (
        await Appointment.filter(id=appointment_id).using_db(conn).select_for_update().first()
    )
    if appointment is None:
        raise NotFound("Appointment not found")
    await appointment.fetch_related("service_account", using_db=conn)
    return appointment


async def _spot(conn: BaseDBAsyncClient, appointment_id: int, *, now: datetime) -> Spot:
    spot = await lines.spot(appointment_id=appointment_id, using_db=conn, now=now)
    if spot is None:
        raise InvalidTransition("Only a waiting appointment can move back")
    return spot


async def late(
    *, appointment_id: int, minutes: int | None = None, now: datetime | None = None
) -> LateMove:
    """Move a waiting appointment back behind those who would be served within
    `minutes` (DEFAULT_LATE_MINUTES), or to the end when the whole line would be;
    at most MAX_LATE_MOVES times. NotFound; InvalidTransition unless it waits."""
    now = now or utcnow()
    minutes = minutes or lateness.DEFAULT_LATE_MINUTES
    async with in_transaction("default") as conn:
        appointment = await _waiting(conn, appointment_id)
        account = appointment.service_account
        spot = await _spot(conn, appointment_id, now=now)
        if appointment.late_moves >= lateness.MAX_LATE_MOVES:
            return LateMove(Outcome.LIMIT, account.name, spot)
        rows, waits = await _behind(
            conn, appointment_id=appointment_id, start_wait=spot.wait_minutes, minutes=minutes
        )
        passed = lateness.behind_count(waits, minutes)
        if passed == 0:
            return LateMove(Outcome.STAYED, account.name, spot)
        # The conditional update is the guard where the row lock is not (SQLite): of
        # two racing LATEs past the limit, one moves.
        counted = await (
            Appointment.filter(id=appointment_id, late_moves=appointment.late_moves)
            .using_db(conn)
            .update(late_moves=appointment.late_moves + 1)
        )
        if not counted:
            return LateMove(Outcome.LIMIT, account.name, spot)
        after = _placed(rows[passed]) if passed < len(rows) else None
        key = lateness.key_between(_placed(rows[passed - 1]), after, me=appointment_id)
        await line_order.set_key(
            appointment_id=appointment_id,
            key=line_order.SortKey(penalty=key.penalty, at=key.at),
            using_db=conn,
        )
        await notices.line_moved(conn=conn, account=account, day=appointment.day, now=now)
        line_events.changed(account.id, appointment.day)
        # Read again, so the new wait is quoted as every other (core.rules.estimate).
        moved = await _spot(conn, appointment_id, now=now)
    return LateMove(Outcome.MOVED, account.name, moved)


@dataclass(frozen=True, slots=True)
class Travel:
    place_name: str
    spot: Spot
    # Their wait is already within their travel time (and the margin): they should
    # set off now, and this answer says so (their "time to head over", if not yet sent).
    head_over_now: bool


async def away(*, appointment_id: int, minutes: int, now: datetime | None = None) -> Travel:
    """Record how far away the customer of a waiting appointment is; they hear "time
    to head over" once, when their wait falls to it (notices.line_moved), or now.
    NotFound; InvalidTransition unless it waits."""
    now = now or utcnow()
    async with in_transaction("default") as conn:
        appointment = await _waiting(conn, appointment_id)
        spot = await _spot(conn, appointment_id, now=now)
        due = lateness.head_over_due(wait_minutes=spot.wait_minutes, travel_minutes=minutes)
        values: dict[str, Any] = {"travel_minutes": minutes}
        if due and appointment.head_over_at is None:
            values["head_over_at"] = now
        await Appointment.filter(id=appointment_id).using_db(conn).update(**values)
        line_events.changed(appointment.service_account_id, appointment.day)
    return Travel(appointment.service_account.name, spot, head_over_now=due)


@dataclass(frozen=True, slots=True)
class CalledLate:
    place_name: str
    # The time (provider's clock, HH:MM) the spot is now held until, when this LATE
    # extended the call's grace period.
    held_until: str | None
    # The grace period was extended by an earlier LATE, so this one could not.
    already_extended: bool


async def late_when_called(
    *, appointment_id: int, minutes: int | None = None, now: datetime | None = None
) -> CalledLate:
    """LATE from a customer already called: the provider is told, once per spot, that
    they are running `minutes` late, and the call's grace period is extended by those
    minutes, once (core.services.grace.extend). NotFound; InvalidTransition unless the
    appointment is active and called."""
    now = now or utcnow()
    minutes = minutes or lateness.DEFAULT_LATE_MINUTES
    async with in_transaction("default") as conn:
        # Locked, so that two LATEs at once extend once; the parties are read apart.
        appointment = (
            await Appointment.filter(id=appointment_id, **line_order.ORM_SERVING)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if appointment is None:
            if not await Appointment.exists(id=appointment_id):
                raise NotFound("Appointment not found")
            raise InvalidTransition("Only a called, active appointment is being waited for")
        await appointment.fetch_related("user", "service_account", using_db=conn)
        account = appointment.service_account
        await notices.late_called(
            conn=conn, appointment=appointment, account=account, minutes=minutes, now=now
        )
        extension = await grace.extend(
            conn=conn, appointment=appointment, minutes=minutes, now=now
        )
        line_events.changed(account.id, appointment.day)
    held_until = None
    if extension.until is not None:
        held_until = grace_rules.clock_time(extension.until, timezone=account.timezone)
    return CalledLate(account.name, held_until, extension.already)
