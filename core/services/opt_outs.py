"""Opting out through a carrier's keyword, and what CANCEL means besides."""

from __future__ import annotations

from datetime import datetime

from core.errors import InvalidTransition, NotFound
from core.services import contacts, standings, status_changes


async def opt_out_and_leave(*, phone: str, now: datetime) -> int:
    """CANCEL by SMS: record the opt-out, then take the phone's customer out of every
    line they wait in from today on, each a cancellation of their own (as LEAVE is).
    Returns how many appointments were cancelled.

    The opt-out comes first, so nothing the cancellations cause is sent to them.
    """
    await contacts.set_opted_out(phone=phone, opted_out=True, now=now)
    left = 0
    for standing in await standings.standings(user_phone=phone, now=now):
        try:
            await status_changes.cancel(appointment_id=standing.appointment_id, now=now)
        except (InvalidTransition, NotFound):
            # Closed meanwhile (called and done, or left from another channel).
            continue
        left += 1
    return left
