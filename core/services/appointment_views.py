"""What one appointment looks like outside the database, and the reads that return it.

AppointmentView has exactly the fields of the API's AppointmentOut, in its order, so
the API serialises views as they are; the engine reads the same type.
AppointmentWithParties adds the customer and the provider, for the API's detail and
for a provider's replies, which name the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from core.errors import InvalidRange, NotFound
from core.models import Appointment, ServiceAccount, Status, User
from core.rules import stats as stats_rules
from core.services import line_order, sql


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: int
    user_phone: str
    service_account_phone: str
    appointment_date: datetime
    day: date
    duration_minutes: int
    notes: str | None
    status: Status
    # The penalty the booking carried; the line's order is its sort key (line_order).
    penalty: float
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AppointmentView:
        """From a row with the view's field names as keys, raw SQL's or the ORM's."""
        return cls(
            id=row["id"],
            user_phone=row["user_phone"],
            service_account_phone=row["service_account_phone"],
            appointment_date=sql.as_datetime(row["appointment_date"]),
            day=sql.as_date(row["day"]),
            duration_minutes=row["duration_minutes"],
            notes=row["notes"],
            status=Status(row["status"]),
            penalty=row["penalty"],
            created_at=sql.as_datetime(row["created_at"]),
        )


FIELDS = tuple(field.name for field in fields(AppointmentView))
# The fields read across a relation, and where the ORM finds them.
_ACROSS = {"user_phone": "user__phone", "service_account_phone": "service_account__phone"}
_OWN = tuple(name for name in FIELDS if name not in _ACROSS)
_ORM_PATHS = {name: _ACROSS.get(name, name) for name in FIELDS}


@dataclass(frozen=True, slots=True)
class AppointmentWithParties(AppointmentView):
    user: User
    service_account: ServiceAccount

    @classmethod
    def of(
        cls, appointment: Appointment, *, service_account: ServiceAccount | None = None
    ) -> AppointmentWithParties:
        """From an appointment fetched with its user (and its provider, unless given)."""
        account = service_account or appointment.service_account
        return cls(
            **{name: getattr(appointment, name) for name in _OWN},
            user_phone=appointment.user.phone,
            service_account_phone=account.phone,
            user=appointment.user,
            service_account=account,
        )


async def _views(query: QuerySet[Appointment]) -> list[AppointmentView]:
    return [AppointmentView.from_row(row) for row in await query.values(**_ORM_PATHS)]


async def get_appointment(*, appointment_id: int) -> AppointmentWithParties:
    appointment = await Appointment.get_or_none(id=appointment_id).select_related(
        "user", "service_account"
    )
    if appointment is None:
        raise NotFound("Appointment not found")
    return AppointmentWithParties.of(appointment)


# A user's appointments: soonest day first, each day in booking order; a provider's:
# soonest day first, each day in line order. Detail reads and history pages share them.
USER_ORDER = ("day", "created_at", "id")
ACCOUNT_ORDER = ("day", *line_order.ORM_ORDER)


@dataclass(frozen=True, slots=True)
class Whose:
    """Whose appointments a read is of, and the order they are listed in."""

    owner: dict[str, int]
    order: tuple[str, ...]


def of_user(user_id: int) -> Whose:
    return Whose({"user_id": user_id}, USER_ORDER)


def of_account(service_account_id: int) -> Whose:
    return Whose({"service_account_id": service_account_id}, ACCOUNT_ORDER)


@dataclass(frozen=True, slots=True)
class Recent:
    """The most recent appointments, in their order, and how many there are in all."""

    appointments: list[AppointmentView]
    total: int


@dataclass(frozen=True, slots=True)
class HistorySelection:
    """A page of one owner's appointments: days start..end (each bound optional, both
    included), one status or any, `skip` of them passed over, at most `limit`."""

    start: date | None = None
    end: date | None = None
    status: Status | None = None
    skip: int = 0
    limit: int = 100


async def recent(whose: Whose, *, limit: int) -> Recent:
    """The last `limit` appointments in `whose` order, listed in that order. Read
    newest first through the owner's index, so a long history costs the page, not the
    history; it is counted only when the page is full."""
    mine = Appointment.filter(**whose.owner)
    newest = await _views(mine.order_by(*(f"-{name}" for name in whose.order)).limit(limit))
    newest.reverse()
    total = len(newest) if len(newest) < limit else await mine.count()
    return Recent(newest, total)


async def history(whose: Whose, selection: HistorySelection) -> list[AppointmentView]:
    """A page of the owner's appointments in `whose` order. InvalidRange when start is
    after end."""
    conditions: dict[str, Any] = dict(whose.owner)
    if selection.start is not None and selection.end is not None:
        _ordered(selection.start, selection.end)
    if selection.start is not None:
        conditions["day__gte"] = selection.start
    if selection.end is not None:
        conditions["day__lte"] = selection.end
    if selection.status is not None:
        conditions["status"] = selection.status
    # The page's ids first, from the owner's index alone: the rows passed over are
    # never joined to their user and provider.
    page = (
        Appointment.filter(**conditions)
        .order_by(*whose.order)
        .offset(selection.skip)
        .limit(selection.limit)
    )
    return await _views(
        Appointment.filter(id__in=Subquery(page.values("id"))).order_by(*whose.order)
    )


def _ordered(start: date, end: date) -> None:
    try:
        stats_rules.check_order(start, end)
    except stats_rules.BadRange as exc:
        raise InvalidRange(str(exc)) from None


async def account_appointments(*, service_account_id: int) -> list[AppointmentView]:
    """All the provider's appointments, in ACCOUNT_ORDER."""
    return await _views(
        Appointment.filter(service_account_id=service_account_id).order_by(*ACCOUNT_ORDER)
    )


async def active_on_day(*, user_phone: str, day: date) -> Appointment | None:
    """The user's one active appointment on `day`, with its provider."""
    return (
        await Appointment.filter(user__phone=user_phone, day=day, status=Status.ACTIVE)
        .select_related("service_account")
        .first()
    )
