"""UNDO: a provider's last NEXT, DONE or NOSHOW (or automatic no-show), put back exactly.

The action writes a snapshot of what it is about to change (the appointment's status and
timestamps, the customer's running score) in its own transaction (`take`); UNDO copies
those values back (`undo_last`). Nothing is recomputed, so a decayed score comes back to
the very numbers it had. An undo that would overwrite something that changed since (the
customer left, another event reached their score, they booked another spot that day)
is refused and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.models import Appointment, ReliabilityScore, ServiceAccount, Status, UndoSnapshot
from core.rules import notice_texts
from core.rules import penalty as penalty_rules
from core.rules.days import utcnow
from core.rules.undo import Action, Outcome, expired
from core.services import line_events, lines, notices, service_accounts, waits
from core.services.appointment_views import AppointmentWithParties
from core.services.outbox.enqueue import enqueue


@dataclass(frozen=True, slots=True)
class Prior:
    """An appointment's columns an action may change, as they were before it."""

    status: Status
    status_changed_at: datetime | None
    called_at: datetime | None
    confirmed_at: datetime | None

    @classmethod
    def of(cls, appointment: Appointment) -> Prior:
        return cls(
            appointment.status,
            appointment.status_changed_at,
            appointment.called_at,
            appointment.confirmed_at,
        )


@dataclass(frozen=True, slots=True)
class Scores:
    """The (user, provider) running score around one event; `before` None: no row yet."""

    before: penalty_rules.Score | None
    after: penalty_rules.Score


@dataclass(frozen=True, slots=True)
class Undone:
    outcome: Outcome
    action: Action | None = None
    appointment: AppointmentWithParties | None = None
    # Where the customer stands again when the undo put them back among those waiting.
    position: int | None = None


async def take(
    *,
    conn: BaseDBAsyncClient,
    action: Action,
    appointment: Appointment,
    prior: Prior,
    scores: Scores | None,
    now: datetime,
) -> None:
    """Record `action` on `appointment` as its provider's last one, inside the action's
    transaction. `scores` is given when the action folded an event into the score."""
    before = scores.before if scores else None
    after = scores.after if scores else None
    await UndoSnapshot.create(
        using_db=conn,
        service_account_id=appointment.service_account_id,
        action=action.value,
        appointment_id=appointment.id,
        prior_status=prior.status,
        prior_status_changed_at=prior.status_changed_at,
        prior_called_at=prior.called_at,
        prior_confirmed_at=prior.confirmed_at,
        score_touched=scores is not None,
        prior_cancellations=before.cancellations if before else None,
        prior_no_shows=before.no_shows if before else None,
        prior_as_of=before.as_of if before else None,
        after_cancellations=after.cancellations if after else None,
        after_no_shows=after.no_shows if after else None,
        after_as_of=after.as_of if after else None,
        taken_at=now,
    )


def _left_by(snapshot: UndoSnapshot) -> dict[str, Any]:
    """The appointment's columns as the action left them; anything else changed it since."""
    if Action(snapshot.action) is Action.NEXT:
        return {"status": Status.ACTIVE, "called_at": snapshot.taken_at}
    closed = Status.COMPLETED if Action(snapshot.action) is Action.DONE else Status.NO_SHOW
    return {"status": closed, "status_changed_at": snapshot.taken_at}


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


async def undo_last(*, service_account_phone: str, now: datetime | None = None) -> Undone:
    """Revert the provider's last action if it is within the window and not undone yet."""
    now = now or utcnow()
    account = await service_accounts.get_service_account(phone=service_account_phone)
    try:
        async with in_transaction("default") as conn:
            snapshot = (
                await UndoSnapshot.filter(service_account_id=account.id)
                .using_db(conn)
                .order_by("-id")
                .select_for_update()
                .first()
            )
            if snapshot is None:
                return Undone(Outcome.NOTHING)
            action = Action(snapshot.action)
            if snapshot.undone_at is not None:
                return Undone(Outcome.ALREADY_UNDONE, action)
            if expired(taken_at=snapshot.taken_at, now=now):
                return Undone(Outcome.EXPIRED, action)
            appointment = (
                await Appointment.filter(id=snapshot.appointment_id)
                .using_db(conn)
                .select_related("user")
                .get()
            )
            view = AppointmentWithParties.of(appointment, service_account=account)
            # Raises _Refused out of the transaction, rolling back a half-done restore.
            await _restore(conn, snapshot, appointment)
            snapshot.undone_at = now
            await snapshot.save(using_db=conn, update_fields=["undone_at"])
            if action is Action.DONE:
                # The service it measured is gone from the provider's history.
                await waits.refresh_profile(
                    conn, account_id=account.id, timezone=account.timezone, now=now
                )
            position, told = await _tell_customer(conn, snapshot, appointment, account, now)
            await notices.line_moved(
                conn=conn,
                account=account,
                day=appointment.day,
                now=now,
                told_elsewise=appointment.id if told else None,
            )
            line_events.changed(account.id, appointment.day)
    except _Refused as refused:
        return Undone(refused.outcome, action, view)
    return Undone(Outcome.UNDONE, action, view, position)


async def _restore(
    conn: BaseDBAsyncClient, snapshot: UndoSnapshot, appointment: Appointment
) -> None:
    score_row = None
    if snapshot.score_touched:
        score_row = (
            await ReliabilityScore.filter(
                user_id=appointment.user_id, service_account_id=snapshot.service_account_id
            )
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if score_row is None or (
            score_row.cancellations,
            score_row.no_shows,
            score_row.as_of,
        ) != (snapshot.after_cancellations, snapshot.after_no_shows, snapshot.after_as_of):
            raise _Refused(Outcome.CHANGED_SINCE)
    prior = {
        "status": snapshot.prior_status,
        "status_changed_at": snapshot.prior_status_changed_at,
        "called_at": snapshot.prior_called_at,
        "confirmed_at": snapshot.prior_confirmed_at,
    }
    try:
        # A savepoint: the one-active-spot-per-day index may refuse the row.
        async with in_transaction("default") as inner:
            changed = (
                await Appointment.filter(id=appointment.id, **_left_by(snapshot))
                .using_db(inner)
                .update(**prior)
            )
    except IntegrityError:
        raise _Refused(Outcome.BOOKED_ELSEWHERE) from None
    if not changed:
        raise _Refused(Outcome.CHANGED_SINCE)
    for name, value in prior.items():
        setattr(appointment, name, value)
    if score_row is None:
        return
    if snapshot.prior_as_of is None:
        await ReliabilityScore.filter(id=score_row.id).using_db(conn).delete()
        return
    await ReliabilityScore.filter(id=score_row.id).using_db(conn).update(
        cancellations=snapshot.prior_cancellations,
        no_shows=snapshot.prior_no_shows,
        as_of=snapshot.prior_as_of,
    )


async def _tell_customer(
    conn: BaseDBAsyncClient,
    snapshot: UndoSnapshot,
    appointment: Appointment,
    account: ServiceAccount,
    now: datetime,
) -> tuple[int | None, bool]:
    """Where a customer put back among those waiting stands, and whether they were told:
    one who heard it was their turn (an undone NEXT) hears that they are back in line,
    and one who heard their spot was closed (an undone automatic no-show) hears that it
    is their turn again."""
    action = Action(snapshot.action)
    if appointment.status is not Status.ACTIVE:
        return None, False
    if appointment.called_at is not None:
        if action is not Action.AUTO_NOSHOW:
            return None, False
        await enqueue(
            conn=conn,
            service_account_id=account.id,
            recipient=appointment.user.phone,
            text=notice_texts.turn_reopened(place_name=account.name),
            idempotency_key=f"undo:{snapshot.id}",
            now=now,
        )
        return None, True
    spot = await lines.spot(appointment_id=appointment.id, using_db=conn, now=now)
    if spot is None:
        return None, False
    told = action is Action.NEXT
    if told:
        await enqueue(
            conn=conn,
            service_account_id=account.id,
            recipient=appointment.user.phone,
            text=notice_texts.back_in_line(place_name=account.name, position=spot.position),
            idempotency_key=f"undo:{snapshot.id}",
            now=now,
        )
    return spot.position, told
