"""Quoted waits as every read reckons them (core.rules.estimate), and the learned
profile (core.rules.service_times) kept on the provider's row.

The profile is recomputed when a service completes (or a DONE is undone), in that
change's transaction, and by the first chat join or NEXT of a provider's local day
that finds it from an earlier day (the window moved on). The reads that already fetch
the provider row (booking, spots, standings, the provider's QUEUE) carry it at no
extra statement; STATUS never recomputes it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from core.models import ServiceAccount
from core.rules import estimate, service_times
from core.rules.days import today_in
from core.services import sql, stats
from core.services.statements import bind

# The window's completed services. Their days reach back one day further than the
# window, as a day is local and the window is not; the row filter is the window's own.
_SERVICES = """
SELECT a.day, a.status, a.created_at, a.called_at, a.status_changed_at, a.quoted_wait_minutes
FROM appointments a
WHERE a.service_account_id = {account} AND a.day >= {first_day} AND a.status = 'completed'
  AND a.called_at IS NOT NULL AND a.status_changed_at >= {since}
"""


def basis_of(
    *,
    day: date,
    now: datetime,
    timezone: str,
    chairs: Any,
    wait_profile: Any,
    delay_day: Any,
    delay_minutes: Any,
) -> estimate.Basis:
    """The basis of `day`'s waits from a provider's columns, as a raw row or the model
    carries them."""
    return estimate.basis(
        day=day,
        now=now,
        timezone=timezone,
        chairs=int(chairs),
        profile=service_times.from_json(wait_profile),
        delay_day=None if delay_day is None else sql.as_date(delay_day),
        delay_minutes=None if delay_minutes is None else int(delay_minutes),
    )


def account_basis(account: ServiceAccount, *, day: date, now: datetime) -> estimate.Basis:
    return basis_of(
        day=day,
        now=now,
        timezone=account.timezone,
        chairs=account.chairs,
        wait_profile=account.wait_profile,
        delay_day=account.delay_day,
        delay_minutes=account.delay_minutes,
    )


async def refresh_profile(
    conn: BaseDBAsyncClient, *, account_id: int, timezone: str, now: datetime
) -> service_times.Profile | None:
    """Recompute and store the provider's profile from its window of completed services."""
    since = service_times.window_start(now)
    query, args = bind(
        conn,
        _SERVICES,
        {
            "account": account_id,
            "first_day": sql.day_param(conn, since.date() - timedelta(days=1)),
            "since": sql.datetime_param(conn, since),
        },
    )
    rows = await conn.execute_query_dict(query, args)
    records = (stats.record_of(row) for row in rows)
    found = service_times.profile(records, timezone=timezone, now=now)
    await ServiceAccount.filter(id=account_id).using_db(conn).update(
        wait_profile=_stored(found),
        wait_profile_day=today_in(timezone, now=now),
    )
    return found


def _stored(found: service_times.Profile | None) -> dict[str, Any] | None:
    return None if found is None else service_times.to_json(found)


async def refresh_if_stale(
    conn: BaseDBAsyncClient,
    *,
    account_id: int,
    timezone: str,
    profile_day: Any,
    now: datetime,
) -> tuple[bool, dict[str, Any] | None]:
    """Recompute the profile when it was computed on an earlier local day (or never):
    whether it was, and the profile as now stored. Of concurrent readers, the one whose
    conditional update claims the day recomputes it; the others go on with what they read."""
    today = today_in(timezone, now=now)
    if profile_day is not None and sql.as_date(profile_day) >= today:
        return False, None
    claimed = await (
        ServiceAccount.filter(Q(wait_profile_day__isnull=True) | Q(wait_profile_day__lt=today))
        .filter(id=account_id)
        .using_db(conn)
        .update(wait_profile_day=today)
    )
    if not claimed:
        return False, None
    found = await refresh_profile(conn, account_id=account_id, timezone=timezone, now=now)
    return True, _stored(found)
