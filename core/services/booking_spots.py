"""Where a spot booked now would stand, read before its insert so that the booking's
quote goes into the INSERT (core.rules.estimate reckons the wait)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.rules.queue_spot import Spot
from core.services import line_order, sql, waits
from core.services.statements import bind

# Who would wait ahead of a new spot keyed (penalty, booked_at): it ranks after every
# waiting spot with a lower or equal key, as its id is the highest.
_AHEAD_BEFORE_BOOKING = f"""
SELECT COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait
FROM appointments o
WHERE o.service_account_id = {{account}} AND o.day = {{day}} AND {line_order.waiting("o")}
  AND (o.rank_penalty < {{penalty}} OR (o.rank_penalty = {{penalty}} AND o.rank_at <= {{at}}))
"""  # noqa: S608 - built from constants only; values are bound parameters


async def spot_before(ctx: dict[str, Any], *, day: date, penalty: float, now: datetime) -> Spot:
    """Where a spot booked now on `day` would stand, read before its insert so that its
    quote goes into the INSERT (core.rules.estimate reckons the wait)."""
    conn = sql.connection()
    query, args = bind(
        conn,
        _AHEAD_BEFORE_BOOKING,
        {
            "account": ctx["account_id"],
            "day": sql.day_param(conn, day),
            "penalty": penalty,
            "at": sql.datetime_param(conn, now),
        },
    )
    rows = await conn.execute_query_dict(query, args)
    basis = waits.basis_of(
        day=day,
        now=now,
        timezone=ctx["timezone"],
        chairs=ctx["chairs"],
        wait_profile=ctx["wait_profile"],
        delay_day=ctx["delay_day"],
        delay_minutes=ctx["delay_minutes"],
    )
    return basis.spot(ahead=int(rows[0]["ahead"]), booked_minutes=int(rows[0]["wait"]))


class Spotter:
    """The spot before booking, read at most once, and only when something needs it."""

    def __init__(self, ctx: dict[str, Any], *, day: date, penalty: float, now: datetime) -> None:
        self._args = (ctx, day, penalty, now)
        self.found: Spot | None = None

    async def __call__(self) -> Spot:
        if self.found is None:
            ctx, day, penalty, now = self._args
            self.found = await spot_before(ctx, day=day, penalty=penalty, now=now)
        return self.found
