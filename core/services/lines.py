"""A provider's line for one day: who is being served, who waits and in what order.

Lines can be long (thousands on a busy morning), so every read here is bounded: a
page from the front, a count, or one aggregate for a single spot.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from core.models import Appointment
from core.rules.days import utcnow
from core.rules.queue_spot import Spot
from core.services import line_order, sql, waits
from core.services.statements import bind


def _line(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None, **where: Any
) -> QuerySet[Appointment]:
    return Appointment.filter(service_account_id=service_account_id, day=day, **where).using_db(
        using_db
    )


async def waiting(
    *,
    service_account_id: int,
    day: date,
    limit: int,
    using_db: BaseDBAsyncClient | None = None,
) -> list[Appointment]:
    """The first `limit` appointments waiting, in line order, with their users."""
    line = _line(
        service_account_id=service_account_id, day=day, using_db=using_db, **line_order.ORM_WAITING
    )
    return list(await line.order_by(*line_order.ORM_ORDER).limit(limit).select_related("user"))


async def count_waiting(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> int:
    line = _line(
        service_account_id=service_account_id, day=day, using_db=using_db, **line_order.ORM_WAITING
    )
    return await line.count()


async def serving(
    *,
    service_account_id: int,
    day: date,
    using_db: BaseDBAsyncClient | None = None,
    latest: int | None = None,
) -> list[Appointment]:
    """Called and not yet done or no-show, earliest called first; with `latest`, only
    that many of the most recently called, latest first (a board's bounded read)."""
    line = _line(
        service_account_id=service_account_id, day=day, using_db=using_db, **line_order.ORM_SERVING
    )
    if latest is not None:
        line = line.order_by("-called_at", "-id").limit(latest)
    else:
        line = line.order_by("called_at", "id")
    return list(await line.select_related("user"))


# Those ahead of one appointment in its waiting line.
_SPOT = {
    dialect: f"""
SELECT COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait, me.day,
       sa.timezone, sa.chairs, sa.wait_profile, sa.delay_minutes, sa.delay_day
FROM appointments me
JOIN service_accounts sa ON sa.id = me.service_account_id
LEFT JOIN appointments o{line_order.in_line_order(dialect)}
  ON o.service_account_id = me.service_account_id AND o.day = me.day
 AND {line_order.waiting("o")} AND {line_order.ahead_of("o", "me")}
WHERE me.id = {{id}} AND {line_order.waiting("me")}
GROUP BY me.id, sa.id
"""  # noqa: S608 - built from constants only; values are bound parameters
    for dialect in line_order.DIALECTS
}


async def spot(
    *,
    appointment_id: int,
    using_db: BaseDBAsyncClient | None = None,
    now: datetime | None = None,
) -> Spot | None:
    """Position, people ahead and quoted wait (core.rules.estimate, the provider's
    chairs, profile and DELAY for that day) of a waiting appointment, in one aggregate
    query; None unless it waits."""
    conn = using_db or sql.connection()
    query, args = bind(conn, _SPOT[conn.capabilities.dialect], {"id": appointment_id})
    rows = await conn.execute_query_dict(query, args)
    if not rows:
        return None
    row = rows[0]
    basis = waits.basis_of(
        day=sql.as_date(row["day"]),
        now=now or utcnow(),
        timezone=row["timezone"],
        chairs=row["chairs"],
        wait_profile=row["wait_profile"],
        delay_day=row["delay_day"],
        delay_minutes=row["delay_minutes"],
    )
    return basis.spot(ahead=int(row["ahead"]), booked_minutes=int(row["wait"]))
