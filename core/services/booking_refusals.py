"""What refuses a booking: a provider's opening hours (core.rules.hours), its limits
(core.rules.capacity) and CLOSE; and the refusal naming the next day that would do."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.errors import AfterClosing, ClosedDay, NoRoom
from core.rules import capacity
from core.rules import days as day_rules
from core.rules import hours as hour_rules
from core.services import line_order, sql
from core.services.booking_spots import Spotter
from core.services.statements import bind

T = TypeVar("T")

# Only with a limit set, or tickets to number. Two joins racing for the last place (or
# the next ticket) queue on the provider's row (NO KEY UPDATE leaves the appointments'
# foreign key checks alone) and the second counts after the first commits: READ
# COMMITTED gives each statement a fresh snapshot.
_LOCK_ACCOUNT = "SELECT id FROM service_accounts WHERE id = {account} FOR NO KEY UPDATE"

# A line's load per day, for the day asked and the days after it (the next with room).
_LOADS = f"""
SELECT a.day,
       SUM(CASE WHEN {line_order.waiting("a")} THEN 1 ELSE 0 END) AS waiting,
       SUM(CASE WHEN a.status <> 'canceled' THEN 1 ELSE 0 END) AS booked
FROM appointments a
WHERE a.service_account_id = {{account}} AND a.day >= {{first}} AND a.day <= {{last}}
GROUP BY a.day
"""  # noqa: S608 - built from constants only; values are bound parameters


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _opening_hours(ctx: dict[str, Any]) -> hour_rules.OpeningHours | None:
    """The provider's hours, or None when it sets neither hours nor closed dates."""
    if ctx["hours"] is None and ctx["closed_dates"] is None:
        return None
    return hour_rules.OpeningHours.of(_json(ctx["hours"]), _json(ctx["closed_dates"]))


async def check_open(ctx: dict[str, Any], *, day: date, spot: Spotter, now: datetime) -> None:
    """ClosedDay or AfterClosing when the provider's hours refuse this join."""
    hours = _opening_hours(ctx)
    if hours is None:
        return
    today = day_rules.today_in(ctx["timezone"], now=now)
    last = day_rules.last_bookable_day(today, ctx["booking_horizon_days"])
    if not hours.is_open(day):
        upcoming = hours.next_open_day(day, last=last)
        named = f"; next open {upcoming.isoformat()}" if upcoming else ""
        raise ClosedDay(f"closed on {day.isoformat()}{named}", day=day, next_open=upcoming)
    closes = hours.closing_time(day)
    if day != today or closes is None:
        return
    # The wait the reply would quote (chairs, learned profile, the day's DELAY).
    wait = (await spot()).wait_minutes
    local_now = now.astimezone(day_rules.zone(ctx["timezone"])).time()
    if hour_rules.turn_after_closing(closes, local_now=local_now, wait_minutes=wait):
        upcoming = hours.next_open_day(day, last=last)
        raise AfterClosing(
            f"the estimated turn falls after closing time ({closes.strftime('%H:%M')})",
            closes=closes,
            next_open=upcoming,
        )


def limits(ctx: dict[str, Any]) -> capacity.Limits:
    return capacity.Limits(max_waiting=ctx["max_waiting"], daily_limit=ctx["daily_limit"])


async def _loads(
    conn: BaseDBAsyncClient, *, account_id: int, first: date, last: date
) -> dict[date, capacity.DayLoad]:
    query, args = bind(
        conn,
        _LOADS,
        {
            "account": account_id,
            "first": sql.day_param(conn, first),
            "last": sql.day_param(conn, last),
        },
    )
    rows = await conn.execute_query_dict(query, args)
    return {
        sql.as_date(row["day"]): capacity.DayLoad(int(row["waiting"]), int(row["booked"]))
        for row in rows
    }


async def no_room(ctx: dict[str, Any], *, day: date, today: date, closed: bool) -> NoRoom:
    """The refusal, naming the first later day within the horizon that is open and has
    room (only a refusal pays for the search)."""
    last = day_rules.last_bookable_day(today, ctx["booking_horizon_days"])
    loads = (
        await _loads(sql.connection(), account_id=ctx["account_id"], first=day, last=last)
        if limits(ctx).any
        else {}
    )
    hours = _opening_hours(ctx)
    shut: frozenset[date] = frozenset()
    if hours is not None:
        span = (last - day).days
        later = (day + timedelta(days=n) for n in range(1, span + 1))
        shut = frozenset(d for d in later if not hours.is_open(d))
    next_day = capacity.next_day_with_room(loads, limits(ctx), after=day, last=last, closed=shut)
    reason = "closed for joins today" if closed else "full on " + day.isoformat()
    hint = f"; next day with room: {next_day.isoformat()}" if next_day else ""
    return NoRoom(f"This service account is {reason}{hint}", closed=closed, next_day=next_day)


async def insert_within(
    values: dict[str, Any],
    *,
    limits: capacity.Limits | None,
    insert: Callable[[BaseDBAsyncClient, dict[str, Any]], Awaitable[T]],
) -> T | None:
    """Insert in one transaction serialised per provider (SQLite serialises writers
    anyway): with `limits`, only if the day has room (None when it is full); without,
    for an insert that reads the line, as a ticket number does (core.services.booking)."""
    async with in_transaction("default") as conn:
        if conn.capabilities.dialect == "postgres":
            query, args = bind(conn, _LOCK_ACCOUNT, {"account": values["account"]})
            await conn.execute_query(query, args)
        if limits is not None:
            day = values["day"]
            loads = await _loads(conn, account_id=values["account"], first=day, last=day)
            if not capacity.has_room(loads.get(day, capacity.DayLoad()), limits):
                return None
        return await insert(conn, values)
