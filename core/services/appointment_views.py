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

from tortoise.queryset import QuerySet

from core.errors import NotFound
from core.models import Appointment, ServiceAccount, Status, User
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


async def user_appointments(*, user_id: int) -> list[AppointmentView]:
    """The user's appointments, soonest day first, each day in booking order."""
    return await _views(
        Appointment.filter(user_id=user_id).order_by("day", "created_at", "id")
    )


async def account_appointments(*, service_account_id: int) -> list[AppointmentView]:
    """The provider's appointments, soonest day first, each day in line order."""
    return await _views(
        Appointment.filter(service_account_id=service_account_id).order_by(
            "day", *line_order.ORM_ORDER
        )
    )


async def active_on_day(*, user_phone: str, day: date) -> Appointment | None:
    """The user's one active appointment on `day`, with its provider."""
    return (
        await Appointment.filter(user__phone=user_phone, day=day, status=Status.ACTIVE)
        .select_related("service_account")
        .first()
    )
