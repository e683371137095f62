"""Where a customer stands in every line they are in.

A STATUS or LEAVE needs the customer's active appointments from today on, each with
its provider and, while not yet called, the spot in that provider's line. One query
reads the appointments (through the partial index on active ones), their providers and
each line's version; the spots come from the process's rankings (line_ranks.RankCache,
owned by the application and passed in) while a line is unchanged, else from one count
per appointment. Should an appointment stop
waiting between the two reads, everything is read again in one statement (_EXACT),
so a customer never sees a mix of two moments. The line's conditions and order are
core.services.line_order's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.rules.days import today_in, utcnow
from core.rules.queue_spot import Spot
from core.services import line_order, line_ranks, sql, waits
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
    # Called and not yet confirmed (HERE): the customer's next step is to say so.
    awaited: bool = False


# Common table expressions `mine` (the active appointments of the user with phone
# {phone}, from {since} on) and `standings` (each with its provider and its line's
# version). Whole time zones are at most a day behind UTC, so {since} is the day before
# today in UTC and each provider's own today is applied to the rows (see
# standings_from).
_MINE = f"""
mine AS (
  SELECT a.id, a.service_account_id, a.day, a.created_at, a.status, a.called_at,
         a.confirmed_at, {", ".join(f"a.{column}" for column in line_order.KEY_COLUMNS)}
  FROM users u
  JOIN appointments a ON a.user_id = u.id AND {line_order.active("a")} AND a.day >= {{since}}
  WHERE u.phone = {{phone}}
)"""  # noqa: S608 - built from constants only; values are bound parameters
# `standings` from `mine`: each appointment with its provider and `spot` columns
# (version, ahead, wait), from `joins` if need be.
_STANDINGS_CTE = """,
standings AS (
  SELECT m.id, m.service_account_id, m.day, m.created_at, m.called_at, m.confirmed_at,
         p.name, p.code, p.timezone, p.chairs, p.wait_profile, p.delay_minutes, p.delay_day,
         {spot}
  FROM mine m
  JOIN service_accounts p ON p.id = m.service_account_id{joins}
)"""
# Both built from constants only; values are bound parameters.
STANDINGS_CTES = _MINE + _STANDINGS_CTE.format(
    spot="""(SELECT COALESCE(SUM(lv.n), 0) FROM line_versions lv
          WHERE lv.service_account_id = m.service_account_id AND lv.day = m.day) AS version,
         NULL AS ahead, NULL AS wait""",
    joins="",
)
# The same rows with the spots counted in SQL, all in one snapshot.
_EXACT_CTES = _MINE + _STANDINGS_CTE.format(
    spot="0 AS version, COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait",
    joins=f"""
  LEFT JOIN appointments o
    ON {line_order.waiting("m")}
   AND o.service_account_id = m.service_account_id AND o.day = m.day
   AND {line_order.waiting("o")} AND {line_order.ahead_of("o", "m")}
  GROUP BY m.id, m.service_account_id, m.day, m.created_at, m.called_at, m.confirmed_at,
           p.name, p.code, p.timezone, p.chairs, p.wait_profile, p.delay_minutes, p.delay_day""",
)

# `mine` with each appointment's provider time zone: enough to tell whether the user is
# in any line (in_line_from), without the spots. Built from constants only.
ACTIVE_CTES = _MINE + """,
active AS (
  SELECT m.day, m.called_at, m.confirmed_at, p.timezone
  FROM mine m JOIN service_accounts p ON p.id = m.service_account_id
)"""  # noqa: S608
ACTIVE_COLUMNS = (
    "ac.day AS ac_day, ac.timezone AS ac_timezone, "
    "ac.called_at AS ac_called_at, ac.confirmed_at AS ac_confirmed_at"
)

# The columns of `standings` a row must carry for standings_from (as these names).
STANDING_COLUMNS = (
    "s.id AS s_id, s.service_account_id AS s_account, s.day AS s_day, "
    "s.called_at AS s_called_at, s.confirmed_at AS s_confirmed_at, s.name AS s_name, s.code AS s_code, "
    "s.timezone AS s_timezone, s.version AS s_version, s.ahead AS s_ahead, s.wait AS s_wait, "
    "s.chairs AS s_chairs, s.wait_profile AS s_wait_profile, "
    "s.delay_minutes AS s_delay_minutes, s.delay_day AS s_delay_day"
)


# A customer's standings, soonest first: by day, then in the order they booked.
STANDINGS_ORDER = "ORDER BY s.day, s.created_at, s.id"


def _alone(ctes: str) -> str:
    return (
        "WITH" + ctes + "\nSELECT " + STANDING_COLUMNS + f"\nFROM standings s\n{STANDINGS_ORDER}\n"
    )


_STANDINGS = _alone(STANDINGS_CTES)
_EXACT = _alone(_EXACT_CTES)


def since_param(conn: BaseDBAsyncClient, now: datetime) -> Any:
    """The {since} of STANDINGS_CTES: no provider's today is earlier than this."""
    return sql.day_param(conn, now.date() - timedelta(days=1))


async def standings_from(
    rows: list[dict[str, Any]],
    *,
    user_phone: str,
    now: datetime,
    ranks: line_ranks.RankCache | None = None,
) -> list[Standing]:
    """Standings from rows carrying STANDING_COLUMNS (of the user with `user_phone`),
    soonest first; rows without an appointment (s_id NULL) and days already past for
    their provider are left out. Spots come from `ranks` where it can answer, else
    are counted in SQL."""
    conn = sql.connection()
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
            basis = waits.basis_of(
                day=day,
                now=now,
                timezone=timezone,
                chairs=row["s_chairs"],
                wait_profile=row["s_wait_profile"],
                delay_day=row["s_delay_day"],
                delay_minutes=row["s_delay_minutes"],
            )
            if row["s_ahead"] is not None:
                spot = basis.spot(ahead=int(row["s_ahead"]), booked_minutes=int(row["s_wait"]))
            else:
                spot = await line_ranks.spot(
                    conn,
                    ranks=ranks,
                    account_id=row["s_account"],
                    day=day,
                    version=int(row["s_version"]),
                    appointment_id=row["s_id"],
                    basis=basis,
                    now=now,
                )
                if spot is None:
                    # Called or gone since the rows were read: read it all again at once.
                    return await _exact(conn, user_phone=user_phone, now=now)
        awaited = spot is None and row["s_confirmed_at"] is None
        result.append(
            Standing(row["s_id"], day, row["s_name"], row["s_code"], today, spot, awaited)
        )
    return result


def in_line_from(rows: list[dict[str, Any]], *, now: datetime) -> tuple[bool, bool]:
    """From rows carrying ACTIVE_COLUMNS: whether they hold an appointment from its
    provider's today on (what `standings` would list something for), and whether one of
    those is called and not confirmed (a Standing's `awaited`)."""
    current = [
        row
        for row in rows
        if row["ac_day"] is not None
        and sql.as_date(row["ac_day"]) >= today_in(row["ac_timezone"], now=now)
    ]
    awaited = any(r["ac_called_at"] is not None and r["ac_confirmed_at"] is None for r in current)
    return bool(current), awaited


async def _exact(conn: BaseDBAsyncClient, *, user_phone: str, now: datetime) -> list[Standing]:
    query, args = bind(conn, _EXACT, {"phone": user_phone, "since": since_param(conn, now)})
    rows = await conn.execute_query_dict(query, args)
    # Its rows carry the spots: no ranking is asked.
    return await standings_from(rows, user_phone=user_phone, now=now)


async def standings(
    *, user_phone: str, now: datetime | None = None, ranks: line_ranks.RankCache | None = None
) -> list[Standing]:
    """The user's active appointments from today on (each provider's today), soonest
    first; `ranks` as in standings_from."""
    now = now or utcnow()
    conn = sql.connection()
    query, args = bind(conn, _STANDINGS, {"phone": user_phone, "since": since_param(conn, now)})
    rows = await conn.execute_query_dict(query, args)
    return await standings_from(rows, user_phone=user_phone, now=now, ranks=ranks)
