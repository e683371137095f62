"""Booking a spot: one read and one insert, whatever the user's history; a provider's
limits (core.rules.capacity) and CLOSE refuse it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import (
    AfterClosing,
    AlreadyExists,
    ClosedDay,
    InvalidInput,
    NoRoom,
    NotFound,
    TooFarAhead,
)
from core.models import ServiceAccount, Status
from core.rules import capacity
from core.rules import days as day_rules
from core.rules import hours as hour_rules
from core.rules import penalty as penalty_rules
from core.rules.days import utcnow
from core.rules.queue_spot import Spot
from core.services import line_order, service_accounts, sql, users, waits
from core.services.appointment_views import AppointmentView
from core.services.statements import bind

MIN_DURATION, MAX_DURATION = 1, 1440

_BOOKING_CONTEXT = """
SELECT u.id AS user_id, sa.id AS account_id, sa.timezone, sa.booking_horizon_days,
       sa.enable_cancellation_scoring, sa.cancellation_weight, sa.no_show_weight,
       sa.penalty_half_life_days, sa.max_waiting, sa.daily_limit, sa.closed_on, sa.chairs,
       sa.hours, sa.closed_dates, sa.delay_minutes, sa.delay_day, sa.wait_profile,
       sa.wait_profile_day,
       rs.cancellations, rs.no_shows, rs.as_of
FROM users u
CROSS JOIN service_accounts sa
LEFT JOIN reliability_scores rs ON rs.user_id = u.id AND rs.service_account_id = sa.id
WHERE u.phone = {user} AND sa.phone = {account}
"""

_INSERT_APPOINTMENT = """
INSERT INTO appointments (user_id, service_account_id, appointment_date, day,
                          duration_minutes, notes, status, created_at, penalty,
                          rank_penalty, rank_at, quoted_wait_minutes)
VALUES ({user}, {account}, {moment}, {day}, {minutes}, {notes}, 'active', {now}, {penalty},
        {rank_penalty}, {rank_at}, {quoted})
RETURNING id
"""

# Only with a limit set. Two joins racing for the last place queue on the provider's
# row (NO KEY UPDATE leaves the appointments' foreign key checks alone) and the second
# counts after the first commits: READ COMMITTED gives each statement a fresh snapshot.
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


# Who would wait ahead of a new spot keyed (penalty, booked_at): it ranks after every
# waiting spot with a lower or equal key, as its id is the highest.
_AHEAD_BEFORE_BOOKING = f"""
SELECT COUNT(o.id) AS ahead, COALESCE(SUM(o.duration_minutes), 0) AS wait
FROM appointments o
WHERE o.service_account_id = {{account}} AND o.day = {{day}} AND {line_order.waiting("o")}
  AND (o.rank_penalty < {{penalty}} OR (o.rank_penalty = {{penalty}} AND o.rank_at <= {{at}}))
"""  # noqa: S608 - built from constants only; values are bound parameters


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _opening_hours(ctx: dict[str, Any]) -> hour_rules.OpeningHours | None:
    """The provider's hours, or None when it sets neither hours nor closed dates."""
    if ctx["hours"] is None and ctx["closed_dates"] is None:
        return None
    return hour_rules.OpeningHours.of(_json(ctx["hours"]), _json(ctx["closed_dates"]))


async def _spot_before(ctx: dict[str, Any], *, day: date, penalty: float, now: datetime) -> Spot:
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


class _Spotter:
    """The spot before booking, read at most once, and only when something needs it."""

    def __init__(self, ctx: dict[str, Any], *, day: date, penalty: float, now: datetime) -> None:
        self._args = (ctx, day, penalty, now)
        self.found: Spot | None = None

    async def __call__(self) -> Spot:
        if self.found is None:
            ctx, day, penalty, now = self._args
            self.found = await _spot_before(ctx, day=day, penalty=penalty, now=now)
        return self.found


async def _check_open(ctx: dict[str, Any], *, day: date, spot: _Spotter, now: datetime) -> None:
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


async def _booking_context(user_phone: str, service_account_phone: str) -> dict[str, Any]:
    """User, provider and their running score in one round trip."""
    conn = sql.connection()
    query, args = bind(
        conn, _BOOKING_CONTEXT, {"user": user_phone, "account": service_account_phone}
    )
    rows = await conn.execute_query_dict(query, args)
    if not rows:
        # Only the refusal pays for finding out which one is missing.
        await users.get_user(phone=user_phone)
        await service_accounts.get_service_account(phone=service_account_phone)
        raise NotFound("User or service account not found")
    return rows[0]


def _penalty(ctx: dict[str, Any], *, now: datetime) -> float:
    weights = penalty_rules.Weights(
        enabled=bool(ctx["enable_cancellation_scoring"]),
        cancellation=ctx["cancellation_weight"],
        no_show=ctx["no_show_weight"],
        half_life_days=ctx["penalty_half_life_days"],
    )
    score = (
        None
        if ctx["as_of"] is None
        else penalty_rules.Score(
            ctx["cancellations"], ctx["no_shows"], sql.as_datetime(ctx["as_of"])
        )
    )
    return penalty_rules.penalty(score, weights, now=now)


def _limits(ctx: dict[str, Any]) -> capacity.Limits:
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


async def _no_room(ctx: dict[str, Any], *, day: date, today: date, closed: bool) -> NoRoom:
    """The refusal, naming the first later day within the horizon that is open and has
    room (only a refusal pays for the search)."""
    last = day_rules.last_bookable_day(today, ctx["booking_horizon_days"])
    loads = (
        await _loads(sql.connection(), account_id=ctx["account_id"], first=day, last=last)
        if _limits(ctx).any
        else {}
    )
    hours = _opening_hours(ctx)
    shut: frozenset[date] = frozenset()
    if hours is not None:
        span = (last - day).days
        later = (day + timedelta(days=n) for n in range(1, span + 1))
        shut = frozenset(d for d in later if not hours.is_open(d))
    next_day = capacity.next_day_with_room(
        loads, _limits(ctx), after=day, last=last, closed=shut
    )
    reason = "closed for joins today" if closed else "full on " + day.isoformat()
    hint = f"; next day with room: {next_day.isoformat()}" if next_day else ""
    return NoRoom(f"This service account is {reason}{hint}", closed=closed, next_day=next_day)


async def book(
    *,
    user_phone: str,
    service_account_phone: str,
    appointment_date: str | datetime | date,
    duration_minutes: int = 30,
    notes: str | None = None,
    now: datetime | None = None,
    past_limits: bool = False,
    within_hours: bool = True,
) -> AppointmentView:
    """Book one appointment: one read and one insert, whatever the user's history
    (a provider with a limit set adds a lock and a count, in one transaction; a
    same-day join to a provider with hours, the read of the spot it would take).

    The day must be from the provider's today to its booking horizon: InvalidInput
    for a past day, TooFarAhead (an InvalidInput) past the horizon; ClosedDay for a day
    the provider's hours close, AfterClosing for a same-day join whose turn (now plus
    the wait ahead) falls after closing, unless `within_hours` is False. A day past the
    provider's max_waiting or daily_limit, or today once CLOSEd, is refused with NoRoom
    unless `past_limits`. The provider's own ADD sets both. The spot's sort key is
    line_order.first_key. Nothing is quoted, so none is stored (join_line quotes).
    """
    view, _ = await _book(
        user_phone=user_phone,
        service_account_phone=service_account_phone,
        appointment_date=appointment_date,
        duration_minutes=duration_minutes,
        notes=notes,
        now=now,
        past_limits=past_limits,
        within_hours=within_hours,
        quote=False,
    )
    return view


async def _book(
    *,
    user_phone: str,
    service_account_phone: str,
    appointment_date: str | datetime | date,
    duration_minutes: int = 30,
    notes: str | None = None,
    now: datetime | None = None,
    past_limits: bool = False,
    within_hours: bool = True,
    quote: bool,
) -> tuple[AppointmentView, Spot | None]:
    """book; with `quote`, also the spot the booking takes, read before the insert
    (the same read the closing-time check makes, made once), whose wait the INSERT
    stores as the quote."""
    now = now or utcnow()
    if not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        raise InvalidInput(f"duration_minutes must be between {MIN_DURATION} and {MAX_DURATION}")
    ctx = await _booking_context(user_phone, service_account_phone)
    try:
        moment, day = day_rules.booking_moment(
            appointment_date,
            ctx["timezone"],
            now=now,
            horizon_days=ctx["booking_horizon_days"],
        )
    except day_rules.BeyondHorizon as exc:
        raise TooFarAhead(
            f"appointment_date is too far ahead: {exc}",
            horizon_days=exc.horizon_days,
            last_day=exc.last_day,
        ) from exc
    except (day_rules.InvalidDate, day_rules.DayPassed) as exc:
        raise InvalidInput(str(exc)) from exc
    penalty = _penalty(ctx, now=now)
    if quote:
        # Only a chat join: the API's booking path, benchmarked, stays two statements.
        refreshed, profile = await waits.refresh_if_stale(
            sql.connection(),
            account_id=ctx["account_id"],
            timezone=ctx["timezone"],
            profile_day=ctx["wait_profile_day"],
            now=now,
        )
        if refreshed:
            ctx = {**ctx, "wait_profile": profile}
    spot = _Spotter(ctx, day=day, penalty=penalty, now=now)
    if within_hours:
        await _check_open(ctx, day=day, spot=spot, now=now)
    key = line_order.first_key(penalty=penalty, booked_at=now)
    today = day_rules.today_in(ctx["timezone"], now=now)
    closed_on = None if ctx["closed_on"] is None else sql.as_date(ctx["closed_on"])
    closed = capacity.is_closed(day, closed_on=closed_on, today=today)
    if closed and not past_limits:
        raise await _no_room(ctx, day=day, today=today, closed=True)
    quoted = await spot() if quote else None
    values = {
        "quoted": None if quoted is None else quoted.wait_minutes,
        "user": ctx["user_id"],
        "account": ctx["account_id"],
        "moment": moment,
        "day": day,
        "minutes": duration_minutes,
        "notes": notes,
        "penalty": penalty,
        "now": now,
        "rank_penalty": key.penalty,
        "rank_at": key.at,
    }
    limits = _limits(ctx)
    if limits.any and not past_limits:
        inserted = await _insert_within(values, limits=limits)
        if inserted is None:
            raise await _no_room(ctx, day=day, today=today, closed=False)
        appointment_id = inserted
    else:
        appointment_id = await _insert(sql.connection(), values)
    return AppointmentView(
        id=appointment_id,
        user_phone=user_phone,
        service_account_phone=service_account_phone,
        appointment_date=moment,
        day=day,
        duration_minutes=duration_minutes,
        notes=notes,
        status=Status.ACTIVE,
        penalty=penalty,
        created_at=now,
    ), quoted


async def _insert(conn: BaseDBAsyncClient, values: dict[str, Any]) -> int:
    query, args = bind(
        conn,
        _INSERT_APPOINTMENT,
        {
            **values,
            "moment": sql.datetime_param(conn, values["moment"]),
            "day": sql.day_param(conn, values["day"]),
            "now": sql.datetime_param(conn, values["now"]),
            "rank_at": sql.datetime_param(conn, values["rank_at"]),
        },
    )
    try:
        rows = await conn.execute_query_dict(query, args)
    except IntegrityError as exc:
        raise AlreadyExists(
            f"An active appointment already exists for this user on {values['day'].isoformat()}"
        ) from exc
    appointment_id: int = rows[0]["id"]
    return appointment_id


async def _insert_within(values: dict[str, Any], *, limits: capacity.Limits) -> int | None:
    """Insert if the day has room (count and insert in one transaction, serialised per
    provider); the id, None when the day is full."""
    async with in_transaction("default") as conn:
        if conn.capabilities.dialect == "postgres":
            query, args = bind(conn, _LOCK_ACCOUNT, {"account": values["account"]})
            await conn.execute_query(query, args)
        day = values["day"]
        loads = await _loads(conn, account_id=values["account"], first=day, last=day)
        if not capacity.has_room(loads.get(day, capacity.DayLoad()), limits):
            return None
        return await _insert(conn, values)


async def join_line(
    *,
    user_phone: str,
    account: ServiceAccount,
    day: date,
    now: datetime | None = None,
) -> Spot:
    """Book `day` at `account` and say where that puts the user (book's errors apply)."""
    spot, _ = await add_to_line(user_phone=user_phone, account=account, day=day, now=now)
    return spot


async def add_to_line(
    *,
    user_phone: str,
    account: ServiceAccount,
    day: date,
    now: datetime | None = None,
    past_limits: bool = False,
) -> tuple[Spot, bool]:
    """join_line, and with `past_limits` (the provider's ADD) past its opening hours, a
    full day or a CLOSE: the spot, and whether it went past a limit or CLOSE (only then
    is the day booked twice over: a refusal, then the booking past it)."""
    went_past = False
    try:
        _, spot = await _book(
            user_phone=user_phone,
            service_account_phone=account.phone,
            appointment_date=day,
            now=now,
            within_hours=not past_limits,
            quote=True,
        )
    except NoRoom:
        if not past_limits:
            raise
        _, spot = await _book(
            user_phone=user_phone,
            service_account_phone=account.phone,
            appointment_date=day,
            now=now,
            past_limits=True,
            within_hours=False,
            quote=True,
        )
        went_past = True
    assert spot is not None  # quote=True reads it
    return spot, went_past
