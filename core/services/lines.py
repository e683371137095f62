"""A provider's line for one day: who is being served, who waits and in what order.

Lines can be long (thousands on a busy morning), so every read here is bounded: a
page from the front, a count, or one aggregate for a single spot.
"""

from __future__ import annotations

from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from core.models import Appointment, Status
from core.rules.queue_spot import Spot
from core.services import sql

# The ranking of the foundation: lower penalty first, then earlier booking.
RANK = ("penalty", "created_at", "id")


def _line(
    *, service_account_id: int, day: date, called: bool, using_db: BaseDBAsyncClient | None
) -> QuerySet[Appointment]:
    return Appointment.filter(
        service_account_id=service_account_id,
        day=day,
        status=Status.ACTIVE,
        called_at__isnull=not called,
    ).using_db(using_db)


async def waiting(
    *,
    service_account_id: int,
    day: date,
    limit: int,
    using_db: BaseDBAsyncClient | None = None,
) -> list[Appointment]:
    """The first `limit` active appointments not yet called, best-ranked first, with users."""
    line = _line(service_account_id=service_account_id, day=day, called=False, using_db=using_db)
    return list(await line.order_by(*RANK).limit(limit).select_related("user"))


async def count_waiting(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> int:
    line = _line(service_account_id=service_account_id, day=day, called=False, using_db=using_db)
    return await line.count()


async def serving(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> list[Appointment]:
    """Called and not yet done or no-show, earliest called first."""
    line = _line(service_account_id=service_account_id, day=day, called=True, using_db=using_db)
    return list(await line.order_by("called_at", "id").select_related("user"))


# Those ahead of one appointment in its waiting line, in the order RANK defines.
_SPOT = """
SELECT COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait
FROM appointments me
LEFT JOIN appointments o
  ON o.service_account_id = me.service_account_id AND o.day = me.day
 AND o.status = 'active' AND o.called_at IS NULL
-- A row comparison, so the ranking is a range on idx_active_queue.
 AND (o.penalty, o.created_at, o.id) < (me.penalty, me.created_at, me.id)
WHERE me.id = {} AND me.status = 'active' AND me.called_at IS NULL
GROUP BY me.id
"""


async def spot(*, appointment_id: int) -> Spot | None:
    """Position, people ahead and wait of a waiting appointment, in one aggregate query."""
    conn = sql.connection()
    rows = await conn.execute_query_dict(_SPOT.format(*sql.params(conn, 1)), [appointment_id])
    if not rows:
        return None
    ahead = int(rows[0]["ahead"])
    return Spot(position=ahead + 1, ahead=ahead, wait_minutes=int(rows[0]["wait"]))
