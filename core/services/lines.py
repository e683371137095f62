"""A provider's line for one day: who is being served, who waits and in what order."""

from __future__ import annotations

from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from core.models import Appointment, Status

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
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> list[Appointment]:
    """Active appointments not yet called, best-ranked first, with their users."""
    line = _line(service_account_id=service_account_id, day=day, called=False, using_db=using_db)
    return list(await line.order_by(*RANK).select_related("user"))


async def waiting_durations(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> list[tuple[int, int]]:
    """The waiting line as (appointment id, duration in minutes), for positions and waits."""
    line = _line(service_account_id=service_account_id, day=day, called=False, using_db=using_db)
    rows = await line.order_by(*RANK).values_list("id", "duration_minutes")
    return [(int(r[0]), int(r[1])) for r in rows]


async def serving(
    *, service_account_id: int, day: date, using_db: BaseDBAsyncClient | None = None
) -> list[Appointment]:
    """Called and not yet done or no-show, earliest called first."""
    line = _line(service_account_id=service_account_id, day=day, called=True, using_db=using_db)
    return list(await line.order_by("called_at", "id").select_related("user"))
