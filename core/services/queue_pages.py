"""The API's queue: a page of a provider's active appointments, in line order.

One statement when the day is given: the provider is looked up inside it, and only an
empty page pays for telling "no such provider" (404) from "nobody waiting". On
PostgreSQL the database writes the page's JSON itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import orjson

from core.errors import InvalidInput
from core.models import ServiceAccount
from core.rules import days as day_rules
from core.rules.days import today_in, utcnow
from core.services import line_order, line_pages, service_accounts, sql
from core.services.appointment_views import AppointmentView
from core.services.statements import bind

# Filtering and ordering follow the line's partial index (line_order.INDEX), so the
# database reads only the page it returns.
_QUEUE = f"""
SELECT a.id, u.phone AS user_phone, CAST({{account}} AS TEXT) AS service_account_phone,
       a.appointment_date, a.day, a.duration_minutes, a.notes, a.status, a.penalty,
       a.created_at{{key_columns}}
FROM appointments a{{in_order}}
JOIN users u ON u.id = a.user_id
WHERE a.service_account_id = (SELECT id FROM service_accounts WHERE phone = {{account}})
  AND {line_order.active("a")} AND a.day {{day_op}} {{since}}{{by_user}}
ORDER BY a.day, {line_order.order_by("a")}
LIMIT {{limit}} OFFSET {{skip}}
"""  # noqa: S608 - built from constants only; values are bound parameters

# PostgreSQL renders the page as JSON itself, in the API's shapes: datetimes in UTC
# ending in Z with microseconds only when there are some (as orjson and pydantic write
# them), and penalties as floats even when whole (1.0, not 1).
_UTC = (
    "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN date_part('microseconds', {c})::bigint % 1000000 = 0 THEN '' "
    "ELSE to_char({c} AT TIME ZONE 'UTC', '.US') END || 'Z'"
)
_QUEUE_JSON = f"""
SELECT COALESCE(json_agg(json_build_object(
    'id', p.id,
    'user_phone', p.user_phone,
    'service_account_phone', p.service_account_phone,
    'appointment_date', {_UTC.format(c="p.appointment_date")},
    'day', to_char(p.day, 'YYYY-MM-DD'),
    'duration_minutes', p.duration_minutes,
    'notes', p.notes,
    'status', p.status,
    'penalty', CASE WHEN p.penalty = trunc(p.penalty) AND abs(p.penalty) < 1e15
                    THEN (trunc(p.penalty)::bigint::text || '.0')::json
                    ELSE to_json(p.penalty) END,
    'created_at', {_UTC.format(c="p.created_at")}
) ORDER BY p.day, {line_order.order_by("p")}), '[]')::text AS page
FROM ({{page}}) p
"""  # noqa: S608 - built from constants only; values are bound parameters


@cache
def _statement(*, one_day: bool, by_user: bool, as_json: bool, dialect: str) -> str:
    page = _QUEUE.format(
        in_order=line_order.in_line_order(dialect),
        # The JSON around the page orders by the key; rows read into views need none.
        key_columns="".join(f", a.{column}" for column in line_order.KEY_COLUMNS)
        if as_json
        else "",
        account="{account}",
        day_op="=" if one_day else ">=",
        since="{since}",
        by_user=" AND u.phone = {user}" if by_user else "",
        limit="{limit}",
        skip="{skip}",
    )
    return _QUEUE_JSON.format(page=page) if as_json else page


@dataclass(frozen=True, slots=True)
class QueueSelection:
    """Which page of a provider's queue: a day (else today and later), one user, a page."""

    service_account_phone: str
    day: date | None = None
    user_phone: str | None = None
    skip: int = 0
    limit: int = 100


async def _queue_rows(
    selection: QueueSelection, *, now: datetime | None, as_json: bool
) -> list[dict[str, Any]]:
    phone, day = selection.service_account_phone, selection.day
    if day is None:
        account = await service_accounts.get_service_account(phone=phone)
        since = today_in(account.timezone, now=now or utcnow())
    else:
        since = day
    conn = sql.connection()
    statement = _statement(
        one_day=day is not None,
        by_user=selection.user_phone is not None,
        as_json=as_json,
        dialect=conn.capabilities.dialect,
    )
    values = {
        "account": phone,
        "since": sql.day_param(conn, since),
        "user": selection.user_phone,
        "limit": selection.limit,
        "skip": selection.skip,
    }
    query, args = bind(conn, statement, values)
    rows = await conn.execute_query_dict(query, args)
    empty = rows[0]["page"] == "[]" if as_json else not rows
    if empty and day is not None:
        account = await service_accounts.get_service_account(phone=phone)
        _check_listable(account, day, now=now or utcnow())
    return rows


def _check_listable(account: ServiceAccount, day: date, *, now: datetime) -> None:
    """Refuse a day nobody can have booked. Only an empty page pays for the check: a
    page with appointments on it is shown, even past a horizon shortened since."""
    try:
        day_rules.check_listable(
            day,
            today=today_in(account.timezone, now=now),
            horizon_days=account.booking_horizon_days,
            # Every zone's today is at least the UTC day before: no booking is older.
            opened=account.created_at.astimezone(UTC).date() - timedelta(days=1),
        )
    except day_rules.InvalidDate as exc:
        raise InvalidInput(str(exc)) from exc


async def queue(selection: QueueSelection, *, now: datetime | None = None) -> list[AppointmentView]:
    """The ranked queue of ACTIVE appointments (waiting or being served), each day in
    line order; without a day, today and later."""
    rows = await _queue_rows(selection, now=now, as_json=False)
    return [AppointmentView.from_row(row) for row in rows]


async def queue_json(
    selection: QueueSelection,
    *,
    now: datetime | None = None,
    cache: line_pages.PageCache | None = None,
) -> bytes:
    """The same page as `queue`, as a JSON array of AppointmentOut objects.

    With a cache, a page of one day for everyone waiting is served from it while the
    line's version is unchanged (see core.services.line_pages); other pages are read.
    """
    if cache is None or selection.day is None or selection.user_phone is not None:
        return await _queue_page(selection, now=now)
    return await line_pages.read_through(
        cache,
        service_account_phone=selection.service_account_phone,
        day=selection.day,
        key=(selection.service_account_phone, selection.day, selection.skip, selection.limit),
        render=lambda: _queue_page(selection, now=now),
    )


async def _queue_page(selection: QueueSelection, *, now: datetime | None) -> bytes:
    """On PostgreSQL the database writes the JSON, which takes the per-row Python work
    off the busiest read; elsewhere it is `queue` serialised."""
    if sql.connection().capabilities.dialect != "postgres":
        return orjson.dumps(await queue(selection, now=now), option=orjson.OPT_UTC_Z)
    rows = await _queue_rows(selection, now=now, as_json=True)
    page: str = rows[0]["page"]
    return page.encode()
