"""Proactive messages caused by a change to a line, written in the change's transaction."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Appointment, ServiceAccount
from core.rules import lateness, notice_texts
from core.rules.days import today_in
from core.services import line_order, lines, sql, waits
from core.services.outbox.enqueue import enqueue
from core.services.statements import bind

# Positions 1 and 2 of today's waiting line hear that their turn is near.
_NEAR = {1: notice_texts.you_are_next, 2: notice_texts.up_soon}


async def line_moved(
    *,
    conn: BaseDBAsyncClient,
    account: ServiceAccount,
    day: date,
    now: datetime,
    told_elsewise: int | None = None,
) -> None:
    """Tell whoever now stands 1st or 2nd today; each appointment hears each once.

    `told_elsewise` is an appointment that the change already told where it stands (an
    undone call: "you're back in line at #1"), so it does not hear it twice.
    """
    if day != today_in(account.timezone, now=now):
        return
    line = await lines.waiting(
        service_account_id=account.id, day=day, limit=len(_NEAR), using_db=conn
    )
    for position, appointment in enumerate(line, start=1):
        if appointment.id == told_elsewise:
            continue
        if position == 2 and appointment.travel_minutes is not None:
            # They said how far away they are: the travel-based notice replaces this one.
            continue
        await enqueue(
            conn=conn,
            service_account_id=account.id,
            recipient=appointment.user.phone,
            text=_NEAR[position](place_name=account.name),
            idempotency_key=f"near:{appointment.id}:{position}",
            now=now,
        )
    await _head_over(conn=conn, account=account, day=day, now=now)


# Today's waiting spots whose customer gave a travel time (AWAY) and has not been told
# to head over yet, each with its wait. The condition is migration 0013's partial index's,
# written literally so that both databases read only those spots; on SQLite INDEXED BY
# holds the planner to it, as line_order.in_line_order does.
_ON_THEIR_WAY_INDEX = "idx_on_their_way"
_ON_THEIR_WAY = {
    dialect: f"""
SELECT a.id, a.travel_minutes, u.phone,
  (SELECT COALESCE(SUM(o.duration_minutes), 0)
   FROM appointments o{line_order.in_line_order(dialect)}
   WHERE o.service_account_id = a.service_account_id AND o.day = a.day
     AND {line_order.waiting("o")} AND {line_order.ahead_of("o", "a")}) AS wait,
  (SELECT COUNT(o.id)
   FROM appointments o{line_order.in_line_order(dialect)}
   WHERE o.service_account_id = a.service_account_id AND o.day = a.day
     AND {line_order.waiting("o")} AND {line_order.ahead_of("o", "a")}) AS ahead
FROM appointments a{f" INDEXED BY {_ON_THEIR_WAY_INDEX}" if dialect == "sqlite" else ""}
JOIN users u ON u.id = a.user_id
WHERE a.service_account_id = {{account}} AND a.day = {{day}}
  AND a.status = 'active' AND a.travel_minutes IS NOT NULL AND a.head_over_at IS NULL
  AND a.called_at IS NULL
"""  # noqa: S608 - built from constants only; values are bound parameters
    for dialect in line_order.DIALECTS
}


async def _head_over(
    *, conn: BaseDBAsyncClient, account: ServiceAccount, day: date, now: datetime
) -> None:
    """Tell each customer on their way whose quoted wait (as STATUS would give it) fell
    to their travel time to set off."""
    values = {"account": account.id, "day": sql.day_param(conn, day)}
    query, args = bind(conn, _ON_THEIR_WAY[conn.capabilities.dialect], values)
    basis = waits.account_basis(account, day=day, now=now)
    for row in await conn.execute_query_dict(query, args):
        wait = basis.wait(ahead=int(row["ahead"]), booked_minutes=int(row["wait"])).minutes
        if not lateness.head_over_due(wait_minutes=wait, travel_minutes=int(row["travel_minutes"])):
            continue
        await enqueue(
            conn=conn,
            service_account_id=account.id,
            recipient=row["phone"],
            text=notice_texts.head_over(place_name=account.name, wait_minutes=wait),
            idempotency_key=f"headover:{row['id']}",
            now=now,
        )
        await Appointment.filter(id=row["id"]).using_db(conn).update(head_over_at=now)


async def late_called(
    *,
    conn: BaseDBAsyncClient,
    appointment: Appointment,
    account: ServiceAccount,
    minutes: int,
    now: datetime,
) -> None:
    """Tell the provider that the customer it called is running late; once per spot."""
    await enqueue(
        conn=conn,
        service_account_id=account.id,
        recipient=account.phone,
        text=notice_texts.running_late(
            name=appointment.user.name, phone=appointment.user.phone, minutes=minutes
        ),
        idempotency_key=f"late:{appointment.id}",
        now=now,
    )


def your_turn_key(appointment: Appointment) -> str:
    """The outbox key of the "your turn" notice of the appointment's call: once per
    call, so a customer called again after an undone call hears it again."""
    assert appointment.called_at is not None
    return f"turn:{appointment.id}:{round(appointment.called_at.timestamp() * 1000)}"


async def your_turn(
    *, conn: BaseDBAsyncClient, appointment: Appointment, account: ServiceAccount, now: datetime
) -> None:
    await enqueue(
        conn=conn,
        service_account_id=account.id,
        recipient=appointment.user.phone,
        text=notice_texts.your_turn(place_name=account.name),
        idempotency_key=your_turn_key(appointment),
        now=now,
    )


async def coming(
    *, conn: BaseDBAsyncClient, appointment: Appointment, account: ServiceAccount, now: datetime
) -> None:
    """Tell the provider that the customer it called confirmed; once per appointment."""
    await enqueue(
        conn=conn,
        service_account_id=account.id,
        recipient=account.phone,
        text=notice_texts.coming(name=appointment.user.name, phone=appointment.user.phone),
        idempotency_key=f"coming:{appointment.id}",
        now=now,
    )
