"""CLOSE and OPEN: a provider stops and resumes today's joins by hand.

The day is stored on the provider's row (closed_on), so a CLOSE survives restarts, is
read by booking's one read at no cost, and ends by itself with the provider's local day.
CLOSE tells no one: those already waiting stay and can be called.
"""

from __future__ import annotations

from datetime import date, datetime

from core.models import ServiceAccount
from core.rules.days import today_in, utcnow
from core.services import line_events


async def close_today(*, account: ServiceAccount, now: datetime | None = None) -> date:
    """Stop joins for the provider's today; the day closed."""
    today = today_in(account.timezone, now=now or utcnow())
    await ServiceAccount.filter(id=account.id).update(closed_on=today)
    account.closed_on = today
    line_events.changed(account.id, today)
    return today


async def open_today(*, account: ServiceAccount, now: datetime | None = None) -> bool:
    """Take joins again; whether today had been closed."""
    today = today_in(account.timezone, now=now or utcnow())
    was_closed = await ServiceAccount.filter(id=account.id, closed_on=today).exists()
    await ServiceAccount.filter(id=account.id).update(closed_on=None)
    account.closed_on = None
    line_events.changed(account.id, today)
    return was_closed
