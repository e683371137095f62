"""Where a customer stands in every line they are in, read in one statement.

A STATUS or LEAVE needs the customer's active appointments from today on, each with
its provider and, while not yet called, the spot in that provider's line. All of it
comes from one query: the appointments through the partial index on active ones, and
one aggregate per appointment over those ranked ahead of it (lines.RANK) on the
queue's index. The status is written as the literal 'active' so PostgreSQL's generic
plans can use those partial indexes (a bound parameter cannot match them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.rules.days import today_in, utcnow
from core.rules.queue_spot import Spot
from core.services import sql
from core.services.statements import bind


@dataclass(frozen=True, slots=True)
class Standing:
    """One of a user's active appointments, as the user sees it."""

    appointment_id: int
    day: date
    place_name: str
    place_code: str | None
    # Today in the provider's time zone.
    today: date
    # None once the provider has called them: it is their turn.
    spot: Spot | None


# Common table expressions `mine` (the active appointments of the user with phone
# {phone}, from {since} on) and `standings` (each with its provider, and those ranked
# ahead of it while it waits). Whole time zones are at most a day behind UTC, so
# {since} is the day before today in UTC and each provider's own today is applied
# to the rows (see _standings_from).
STANDINGS_CTES = """
mine AS (
  SELECT a.id, a.service_account_id, a.day, a.penalty, a.created_at, a.called_at
  FROM users u
  JOIN appointments a ON a.user_id = u.id AND a.status = 'active' AND a.day >= {since}
  WHERE u.phone = {phone}
),
standings AS (
  SELECT m.id, m.day, m.created_at, m.called_at, p.name, p.code, p.timezone,
         COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait
  FROM mine m
  JOIN service_accounts p ON p.id = m.service_account_id
  LEFT JOIN appointments o
    ON m.called_at IS NULL
   AND o.service_account_id = m.service_account_id AND o.day = m.day
   AND o.status = 'active' AND o.called_at IS NULL
   AND (o.penalty, o.created_at, o.id) < (m.penalty, m.created_at, m.id)
  GROUP BY m.id, m.day, m.created_at, m.called_at, p.name, p.code, p.timezone
)"""

# The columns of `standings` a row must carry for standings_from (as these names).
STANDING_COLUMNS = (
    "s.id AS s_id, s.day AS s_day, s.called_at AS s_called_at, s.name AS s_name, "
    "s.code AS s_code, s.timezone AS s_timezone, s.ahead AS s_ahead, s.wait AS s_wait"
)

_STANDINGS = (
    "WITH" + STANDINGS_CTES + "\nSELECT " + STANDING_COLUMNS
    + "\nFROM standings s\nORDER BY s.day, s.created_at, s.id\n"
)

def since_param(conn: BaseDBAsyncClient, now: datetime) -> Any:
    """The {since} of STANDINGS_CTES: no provider's today is earlier than this."""
    return sql.day_param(conn, now.date() - timedelta(days=1))


def standings_from(rows: list[dict[str, Any]], now: datetime) -> list[Standing]:
    """Standings from rows carrying STANDING_COLUMNS, soonest first; rows without an
    appointment (s_id NULL) and days already past for their provider are left out."""
    result = []
    todays: dict[str, date] = {}
    for row in rows:
        if row["s_id"] is None:
            continue
        timezone = row["s_timezone"]
        today = todays.get(timezone)
        if today is None:
            today = todays[timezone] = today_in(timezone, now=now)
        day = sql.as_date(row["s_day"])
        if day < today:
            continue
        spot = None
        if row["s_called_at"] is None:
            ahead = int(row["s_ahead"])
            spot = Spot(position=ahead + 1, ahead=ahead, wait_minutes=int(row["s_wait"]))
        result.append(Standing(row["s_id"], day, row["s_name"], row["s_code"], today, spot))
    return result


async def standings(*, user_phone: str, now: datetime | None = None) -> list[Standing]:
    """The user's active appointments from today on (each provider's today), soonest first."""
    now = now or utcnow()
    conn = sql.connection()
    query, args = bind(
        conn, _STANDINGS, {"phone": user_phone, "since": since_param(conn, now)}
    )
    return standings_from(await conn.execute_query_dict(query, args), now)
