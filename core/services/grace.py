"""Grace periods: a called customer who neither confirms (HERE) nor is served gets one
reminder at half time, and at the end their spot closes as a no-show, or the provider
is asked (core.rules.grace says when each).

NEXT writes the call's timers in its own transaction (`schedule`). A worker in every
process (core.services.grace_worker) fires those due (`fire_due`): each timer is
claimed and its effect applied in one transaction, the claim being a conditional
update of `fired_at` (after FOR UPDATE SKIP LOCKED on PostgreSQL), so a timer fires
once across processes, and a process killed before its commit leaves it due for the
next poll. At fire time everything is read again: a call that was confirmed, closed,
undone or made again does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import connectivity
from core.models import (
    Appointment,
    GraceTimer,
    OutboxMessage,
    OutboxStatus,
    ServiceAccount,
    Status,
)
from core.rules import grace as rules
from core.rules import notice_texts
from core.rules import undo as undo_rules
from core.rules.phones import mask_phone
from core.services import calling, contacts, notices, status_changes
from core.services.outbox.enqueue import enqueue

log = logging.getLogger(__name__)


async def schedule(
    *, conn: BaseDBAsyncClient, appointment: Appointment, account: ServiceAccount
) -> None:
    """Write the timers of the call just made on `appointment` (none if grace is off)."""
    assert appointment.called_at is not None
    due = rules.due_times(called_at=appointment.called_at, grace_minutes=account.grace_minutes)
    if not due:
        return
    await GraceTimer.bulk_create(
        [
            GraceTimer(
                appointment_id=appointment.id,
                kind=kind.value,
                called_at=appointment.called_at,
                due_at=at,
            )
            for kind, at in due.items()
        ],
        using_db=conn,
    )


@dataclass(frozen=True, slots=True)
class Extension:
    # The expiry's new due time, or None: nothing was extended (no grace period, or
    # this call's was extended once already).
    until: datetime | None
    # This call's grace period was extended before.
    already: bool


async def extend(
    *, conn: BaseDBAsyncClient, appointment: Appointment, minutes: int, now: datetime
) -> Extension:
    """LATE from the called customer: push this call's pending timers back by
    `minutes`, once per call. `appointment` is locked by the caller. A customer who
    confirmed has no period left to extend."""
    if appointment.confirmed_at is not None:
        return Extension(until=None, already=False)
    pending = await GraceTimer.filter(
        appointment_id=appointment.id, called_at=appointment.called_at, fired_at__isnull=True
    ).using_db(conn)
    expiry = next((t for t in pending if t.kind == rules.Kind.EXPIRY), None)
    if expiry is None:
        return Extension(until=None, already=False)
    if expiry.extended_at is not None:
        return Extension(until=None, already=True)
    for timer in pending:
        # The condition is the guard where the caller's row lock is not (SQLite).
        await GraceTimer.filter(id=timer.id, fired_at__isnull=True, extended_at__isnull=True).using_db(
            conn
        ).update(due_at=rules.extended(timer.due_at, minutes=minutes), extended_at=now)
    return Extension(until=rules.extended(expiry.due_at, minutes=minutes), already=False)


async def fire_due(*, now: datetime, limit: int = 50) -> int:
    """Fire the timers due at `now`, up to `limit`, each once; return how many fired."""
    fired = 0
    for _ in range(limit):
        try:
            outcome = await _fire_one(now)
        except _Broken as broken:
            # A timer whose effect fails for a reason other than the database being
            # unreachable would fail at every poll: it is logged, and consumed.
            log.error("grace timer %s failed; marked fired without effect", broken.timer_id)
            await GraceTimer.filter(id=broken.timer_id, fired_at__isnull=True).update(
                fired_at=now
            )
            continue
        if outcome is None:
            break
        fired += outcome
    return fired


class _Broken(Exception):
    def __init__(self, timer_id: int) -> None:
        super().__init__(timer_id)
        self.timer_id = timer_id


# Written as migration 0017's partial index reads, so that the poll uses it.
_DUE = {"fired_at__isnull": True}


async def _fire_one(now: datetime) -> bool | None:
    """Claim one due timer and apply it, in one transaction: True if it fired here,
    False if another process fired it first, None if none was due (or another process
    holds them all)."""
    claimed: int | None = None
    try:
        async with in_transaction("default") as conn:
            timer = (
                await GraceTimer.filter(**_DUE, due_at__lte=now)
                .using_db(conn)
                .order_by("due_at", "id")
                .limit(1)
                .select_for_update(skip_locked=True)
                .first()
            )
            if timer is None:
                return None
            won = await (
                GraceTimer.filter(id=timer.id, fired_at__isnull=True)
                .using_db(conn)
                .update(fired_at=now)
            )
            if not won:
                # Another process fired it between our read and our update (SQLite).
                return False
            claimed = timer.id
            await _apply(conn, timer, now)
    except Exception as exc:
        if claimed is None or connectivity.is_outage(exc):
            raise
        log.exception("grace timer %s: effect failed", claimed)
        raise _Broken(claimed) from exc
    return True


async def _apply(conn: BaseDBAsyncClient, timer: GraceTimer, now: datetime) -> None:
    # Locked alone: PostgreSQL locks no outer join; the parties are read apart.
    appointment = (
        await Appointment.filter(id=timer.appointment_id).using_db(conn).select_for_update().first()
    )
    if appointment is None or not _still_waited_for(appointment, timer):
        return
    await appointment.fetch_related("user", "service_account", using_db=conn)
    account = appointment.service_account
    if timer.kind == rules.Kind.REMINDER:
        await enqueue(
            conn=conn,
            service_account_id=account.id,
            recipient=appointment.user.phone,
            text=notice_texts.grace_reminder(place_name=account.name),
            idempotency_key=f"grace-reminder:{timer.id}",
            now=now,
        )
        return
    await _expire(conn, timer, appointment, account, now)


def _still_waited_for(appointment: Appointment, timer: GraceTimer) -> bool:
    """The call the timer belongs to still stands: active, called at the same moment,
    not confirmed."""
    return (
        appointment.status is Status.ACTIVE
        and appointment.called_at == timer.called_at
        and appointment.confirmed_at is None
    )


async def turn_notice_reached(*, conn: BaseDBAsyncClient, appointment: Appointment) -> bool:
    """Whether the "your turn" notice of the appointment's call reached a reachable
    customer."""
    message = (
        await OutboxMessage.filter(idempotency_key=notices.your_turn_key(appointment))
        .using_db(conn)
        .first()
    )
    return rules.reached(
        sent=message is not None and message.status is OutboxStatus.SENT,
        delivery_status=message.delivery_status if message is not None else None,
        opted_out=await contacts.is_opted_out(phone=appointment.user.phone, using_db=conn),
    )


async def _expire(
    conn: BaseDBAsyncClient,
    timer: GraceTimer,
    appointment: Appointment,
    account: ServiceAccount,
    now: datetime,
) -> None:
    user = appointment.user
    # The period this call really had: a LATE's extension included, and unchanged by an
    # edit of grace_minutes since the call.
    period = rules.period_minutes(called_at=timer.called_at, due_at=timer.due_at)
    minutes = rules.minutes_text(period)
    if not await turn_notice_reached(conn=conn, appointment=appointment):
        log.info("grace over for %s, not reached: provider asked", mask_phone(user.phone))
        await _tell_provider(
            conn, timer, account, now,
            notice_texts.grace_ask(name=user.name, phone=user.phone, minutes=minutes),
        )
        return
    # NOSHOW's own path (score, UNDO snapshot, notices), inside this transaction.
    await status_changes.mark_no_show(
        appointment_id=appointment.id, now=now, undo_as=undo_rules.Action.AUTO_NOSHOW
    )
    await enqueue(
        conn=conn,
        service_account_id=account.id,
        recipient=user.phone,
        text=notice_texts.grace_closed(place_name=account.name, minutes=minutes),
        idempotency_key=f"grace-closed:{timer.id}",
        now=now,
    )
    called = None
    if account.auto_call_next:
        called = await calling.call_next(service_account_phone=account.phone, now=now)
    if called is None:
        text = notice_texts.grace_no_show(name=user.name, phone=user.phone, minutes=minutes)
    else:
        text = notice_texts.grace_no_show_called_next(
            name=user.name,
            phone=user.phone,
            minutes=minutes,
            next_name=called.user.name,
            next_phone=called.user.phone,
        )
    await _tell_provider(conn, timer, account, now, text)


async def _tell_provider(
    conn: BaseDBAsyncClient, timer: GraceTimer, account: ServiceAccount, now: datetime, text: str
) -> None:
    await enqueue(
        conn=conn,
        service_account_id=account.id,
        recipient=account.phone,
        text=text,
        idempotency_key=f"grace-expired:{timer.id}",
        now=now,
    )
