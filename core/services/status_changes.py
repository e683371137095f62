"""Closing a spot: cancel, complete, mark a no-show, and the running score they feed."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import InvalidInput, InvalidTransition, NotFound, TooEarly
from core.models import Appointment, ReliabilityScore, Status
from core.rules import penalty as penalty_rules
from core.rules import service_times
from core.rules import undo as undo_rules
from core.rules.days import today_in, utcnow
from core.rules.visits import too_early_to_close
from core.services import line_events, notices, undo, waits
from core.services.appointment_views import AppointmentWithParties

_VERBS = {
    Status.CANCELED: "canceled",
    Status.COMPLETED: "completed",
    Status.NO_SHOW: "marked as no-show",
}
_CLOSES_VISIT = frozenset({Status.COMPLETED, Status.NO_SHOW})
_EVENTS = {
    Status.CANCELED: penalty_rules.Event.CANCELED,
    Status.NO_SHOW: penalty_rules.Event.NO_SHOW,
}


async def change_status(
    *,
    appointment_id: int,
    to: Status,
    now: datetime | None = None,
    undo_as: undo_rules.Action | None = None,
    penalised: bool = True,
) -> AppointmentWithParties:
    """Move an ACTIVE appointment to `to`, once, even under concurrent requests.

    Completing and marking a no-show wait for the appointment's day in the provider's
    time zone (TooEarly before it); a cancellation is allowed at any time. Returns the
    appointment as changed. With `undo_as` (a provider's DONE or NOSHOW, an automatic
    no-show) the change becomes the provider's last action, which UNDO reverts.
    """
    if to not in _VERBS:
        raise InvalidInput(f"cannot change an appointment to {to}")
    now = now or utcnow()
    async with in_transaction("default") as conn:
        appointment = (
            await Appointment.filter(id=appointment_id)
            .using_db(conn)
            .select_related("user", "service_account")
            .first()
        )
        if appointment is None:
            raise NotFound("Appointment not found")
        if appointment.status is Status.ACTIVE and to in _CLOSES_VISIT:
            today = today_in(appointment.service_account.timezone, now=now)
            early = too_early_to_close(day=appointment.day, today=today)
            if early is not None:
                raise TooEarly(early, day=appointment.day)
        # The conditional update is the guard: of two racing changes, one updates a row.
        changed = await (
            Appointment.filter(id=appointment_id, status=Status.ACTIVE)
            .using_db(conn)
            .update(status=to, status_changed_at=now)
        )
        if not changed:
            await appointment.refresh_from_db(fields=["status"], using_db=conn)
            raise InvalidTransition(
                f"Only active appointments can be {_VERBS[to]}; this one is {appointment.status}"
            )
        prior = undo.Prior.of(appointment)
        appointment.status, appointment.status_changed_at = to, now
        # A provider's correction (the console's Remove) counts against nobody.
        event = _EVENTS.get(to) if penalised else None
        scores = None
        if event is not None:
            scores = await _record_event(conn, appointment, event, now)
        if undo_as is not None:
            await undo.take(
                conn=conn, action=undo_as, appointment=appointment, prior=prior,
                scores=scores, now=now,
            )
        account = appointment.service_account
        if to is Status.COMPLETED:
            # The service just measured joins the history waits are learned from; the
            # notices below then quote with it.
            found = await waits.refresh_profile(
                conn, account_id=account.id, timezone=account.timezone, now=now
            )
            account.wait_profile = None if found is None else service_times.to_json(found)
        await notices.line_moved(conn=conn, account=account, day=appointment.day, now=now)
        line_events.changed(account.id, appointment.day)
    return AppointmentWithParties.of(appointment)


async def cancel(
    *, appointment_id: int, now: datetime | None = None, penalised: bool = True
) -> AppointmentWithParties:
    """`penalised=False`: the provider removes the spot (a correction), no score recorded."""
    return await change_status(
        appointment_id=appointment_id, to=Status.CANCELED, now=now, penalised=penalised
    )


async def complete(
    *,
    appointment_id: int,
    now: datetime | None = None,
    undo_as: undo_rules.Action | None = None,
) -> AppointmentWithParties:
    return await change_status(
        appointment_id=appointment_id, to=Status.COMPLETED, now=now, undo_as=undo_as
    )


async def mark_no_show(
    *,
    appointment_id: int,
    now: datetime | None = None,
    undo_as: undo_rules.Action | None = None,
) -> AppointmentWithParties:
    return await change_status(
        appointment_id=appointment_id, to=Status.NO_SHOW, now=now, undo_as=undo_as
    )


def _score_of(row: ReliabilityScore | None) -> penalty_rules.Score | None:
    if row is None:
        return None
    return penalty_rules.Score(row.cancellations, row.no_shows, row.as_of)


async def _record_event(
    conn: BaseDBAsyncClient,
    appointment: Appointment,
    event: penalty_rules.Event,
    now: datetime,
) -> undo.Scores:
    """Fold one event into the (user, provider) running score, serialised per pair;
    returns the score before (None: no row yet) and after."""
    keys = {"user_id": appointment.user_id, "service_account_id": appointment.service_account_id}
    row = await ReliabilityScore.filter(**keys).using_db(conn).select_for_update().first()
    half_life = appointment.service_account.penalty_half_life_days
    score = penalty_rules.record_event(_score_of(row), event, at=now, half_life_days=half_life)
    values = {
        "cancellations": score.cancellations,
        "no_shows": score.no_shows,
        "as_of": score.as_of,
    }
    if row is not None:
        await ReliabilityScore.filter(id=row.id).using_db(conn).update(**values)
        return undo.Scores(before=_score_of(row), after=score)
    try:
        async with in_transaction("default") as inner:
            await ReliabilityScore.create(**keys, **values, using_db=inner)
    except IntegrityError:
        # A concurrent first event created the row; fold ours into it under its lock.
        return await _record_event(conn, appointment, event, now)
    return undo.Scores(before=None, after=score)
