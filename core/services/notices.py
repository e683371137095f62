"""Proactive messages caused by a change to a line, written in the change's transaction."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Appointment, ServiceAccount
from core.rules import notice_texts
from core.rules.days import today_in
from core.services import lines
from core.services.outbox.enqueue import enqueue

# Positions 1 and 2 of today's waiting line hear that their turn is near.
_NEAR = {1: notice_texts.you_are_next, 2: notice_texts.up_soon}


async def line_moved(
    *,
    conn: BaseDBAsyncClient,
    account: ServiceAccount,
    day: date,
    now: datetime,
    told_elsewise: int | None = None,
) -> None:
    """Tell whoever now stands 1st or 2nd today; each appointment hears each once.

    `told_elsewise` is an appointment that the change already told where it stands (an
    undone call: "you're back in line at #1"), so it does not hear it twice.
    """
    if day != today_in(account.timezone, now=now):
        return
    line = await lines.waiting(
        service_account_id=account.id, day=day, limit=len(_NEAR), using_db=conn
    )
    for position, appointment in enumerate(line, start=1):
        if appointment.id == told_elsewise:
            continue
        await enqueue(
            conn=conn,
            recipient=appointment.user.phone,
            text=_NEAR[position](place_name=account.name),
            idempotency_key=f"near:{appointment.id}:{position}",
            now=now,
        )


async def your_turn(
    *, conn: BaseDBAsyncClient, appointment: Appointment, account: ServiceAccount, now: datetime
) -> None:
    await enqueue(
        conn=conn,
        recipient=appointment.user.phone,
        text=notice_texts.your_turn(place_name=account.name),
        idempotency_key=f"turn:{appointment.id}",
        now=now,
    )


async def coming(
    *, conn: BaseDBAsyncClient, appointment: Appointment, account: ServiceAccount, now: datetime
) -> None:
    """Tell the provider that the customer it called confirmed; once per appointment."""
    await enqueue(
        conn=conn,
        recipient=account.phone,
        text=notice_texts.coming(name=appointment.user.name, phone=appointment.user.phone),
        idempotency_key=f"coming:{appointment.id}",
        now=now,
    )
