"""A called customer confirming they are coming (HERE, ON MY WAY): recorded once on
the appointment, and the provider told through the outbox in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from core.errors import InvalidTransition, NotFound
from core.models import Appointment, Status
from core.rules.days import utcnow
from core.services import line_events, line_order, notices


@dataclass(frozen=True, slots=True)
class Confirmation:
    appointment_id: int
    place_name: str
    # When the customer first confirmed: a later confirm keeps it.
    confirmed_at: datetime
    # Whether this call recorded it (and told the provider).
    first: bool


async def confirm(*, appointment_id: int, now: datetime | None = None) -> Confirmation:
    """Record that the customer called for `appointment_id` is coming, once.

    NotFound for no such appointment; InvalidTransition unless it is active and called.
    """
    now = now or utcnow()
    async with in_transaction("default") as conn:
        # The conditional update is the guard: of two racing confirms, one tells the provider.
        first = await (
            Appointment.filter(
                id=appointment_id,
                called_at__isnull=False,
                confirmed_at__isnull=True,
                **line_order.ORM_ACTIVE,
            )
            .using_db(conn)
            .update(confirmed_at=now)
        )
        appointment = await Appointment.get_or_none(id=appointment_id, using_db=conn).select_related(
            "user", "service_account"
        )
        if appointment is None:
            raise NotFound("Appointment not found")
        if (
            appointment.status is not Status.ACTIVE
            or appointment.called_at is None
            or appointment.confirmed_at is None
        ):
            raise InvalidTransition("Only a called, active appointment can be confirmed")
        account = appointment.service_account
        if first:
            await notices.coming(conn=conn, appointment=appointment, account=account, now=now)
            line_events.changed(account.id, appointment.day)
    return Confirmation(
        appointment_id=appointment.id,
        place_name=account.name,
        confirmed_at=appointment.confirmed_at,
        first=bool(first),
    )
