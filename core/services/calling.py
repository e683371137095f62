"""A provider at the front of its line: calling the next person, and finding whom a
DONE or NOSHOW means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from core.models import Appointment, User
from core.rules import limits
from core.rules import undo as undo_rules
from core.rules.days import today_in, utcnow
from core.services import (
    grace,
    line_events,
    line_order,
    lines,
    notices,
    service_accounts,
    undo,
    waits,
)
from core.services.appointment_views import AppointmentWithParties


@dataclass(frozen=True, slots=True)
class Called:
    appointment: AppointmentWithParties
    # How many still wait today after this call.
    still_waiting: int

    @property
    def user(self) -> User:
        return self.appointment.user


async def call_next(*, service_account_phone: str, now: datetime | None = None) -> Called | None:
    """Call the first person waiting today; they hear it is their turn. None if nobody waits.

    Only a provider calls (or its automatic no-show, with auto_call_next), so the call
    is always its last action for UNDO. The call's grace timers are written with it.
    """
    now = now or utcnow()
    account = await service_accounts.get_service_account(phone=service_account_phone)
    today = today_in(account.timezone, now=now)
    async with in_transaction("default") as conn:
        refreshed, profile = await waits.refresh_if_stale(
            conn,
            account_id=account.id,
            timezone=account.timezone,
            profile_day=account.wait_profile_day,
            now=now,
        )
        if refreshed:
            account.wait_profile = profile
        while True:
            line = await lines.waiting(
                service_account_id=account.id, day=today, limit=1, using_db=conn
            )
            if not line:
                return None
            first = line[0]
            # Of two providers' devices pressing NEXT at once, each calls a different person.
            won = await (
                Appointment.filter(id=first.id, **line_order.ORM_WAITING)
                .using_db(conn)
                .update(called_at=now)
            )
            if won:
                break
        prior = undo.Prior.of(first)
        first.called_at = now
        await undo.take(
            conn=conn, action=undo_rules.Action.NEXT, appointment=first, prior=prior,
            scores=None, now=now,
        )
        await notices.your_turn(conn=conn, appointment=first, account=account, now=now)
        await grace.schedule(conn=conn, appointment=first, account=account)
        await notices.line_moved(conn=conn, account=account, day=today, now=now)
        line_events.changed(account.id, today)
        still_waiting = await lines.count_waiting(
            service_account_id=account.id, day=today, using_db=conn
        )
    return Called(AppointmentWithParties.of(first, service_account=account), still_waiting)


async def closable(
    *,
    service_account_phone: str,
    position: int | None = None,
    appointment_id: int | None = None,
    now: datetime | None = None,
) -> AppointmentWithParties | None:
    """The active appointment a provider's DONE / NOSHOW means: `#id`, today's position
    n, or else the person called longest ago."""
    account = await service_accounts.get_service_account(phone=service_account_phone)
    found: Appointment | None
    if appointment_id is not None:
        # Read from a text: an id no row can have is no appointment, not a query.
        if not limits.is_id(appointment_id):
            return None
        found = (
            await Appointment.filter(service_account_id=account.id, id=appointment_id)
            .filter(**line_order.ORM_ACTIVE)
            .select_related("user")
            .first()
        )
    else:
        today = today_in(account.timezone, now=now or utcnow())
        if position is not None:
            if not limits.is_position(position):
                return None
            line = await lines.waiting(service_account_id=account.id, day=today, limit=position)
            found = line[position - 1] if position <= len(line) else None
        else:
            found = (
                await Appointment.filter(service_account_id=account.id, day__lte=today)
                .filter(**line_order.ORM_SERVING)
                .order_by("called_at", "id")
                .select_related("user")
                .first()
            )
    return None if found is None else AppointmentWithParties.of(found, service_account=account)
