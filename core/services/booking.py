"""Booking a spot: one read and one insert, whatever the user's history; a provider's
hours, limits and CLOSE refuse it (core.services.booking_refusals)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from core.errors import AlreadyExists, InvalidInput, NoRoom, NotFound, TooFarAhead
from core.models import ServiceAccount, Status
from core.rules import boards as board_rules
from core.rules import capacity
from core.rules import days as day_rules
from core.rules import penalty as penalty_rules
from core.rules.days import utcnow
from core.rules.queue_spot import Spot
from core.services import (
    booking_refusals,
    line_events,
    line_order,
    service_accounts,
    sql,
    users,
    waits,
)
from core.services.appointment_views import AppointmentView
from core.services.booking_spots import Spotter
from core.services.statements import bind

MIN_DURATION, MAX_DURATION = 1, 1440

_BOOKING_CONTEXT = """
SELECT u.id AS user_id, sa.id AS account_id, sa.timezone, sa.booking_horizon_days,
       sa.enable_cancellation_scoring, sa.cancellation_weight, sa.no_show_weight,
       sa.penalty_half_life_days, sa.max_waiting, sa.daily_limit, sa.closed_on, sa.chairs,
       sa.hours, sa.closed_dates, sa.delay_minutes, sa.delay_day, sa.wait_profile,
       sa.wait_profile_day, sa.board_names,
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

# A provider whose board shows tickets: the day's next number, read in the insert, which
# runs serialised per provider (booking_refusals.insert_within) so no two spots share it
# (the partial unique index of 0021 holds it regardless).
_INSERT_TICKETED = """
INSERT INTO appointments (user_id, service_account_id, appointment_date, day,
                          duration_minutes, notes, status, created_at, penalty,
                          rank_penalty, rank_at, quoted_wait_minutes, ticket)
VALUES ({user}, {account}, {moment}, {day}, {minutes}, {notes}, 'active', {now}, {penalty},
        {rank_penalty}, {rank_at}, {quoted},
        (SELECT COALESCE(MAX(t.ticket), 0) + 1 FROM appointments t
         WHERE t.service_account_id = {account} AND t.day = {day} AND t.ticket IS NOT NULL))
RETURNING id, ticket
"""


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
    spot = Spotter(ctx, day=day, penalty=penalty, now=now)
    if within_hours:
        await booking_refusals.check_open(ctx, day=day, spot=spot, now=now)
    key = line_order.first_key(penalty=penalty, booked_at=now)
    today = day_rules.today_in(ctx["timezone"], now=now)
    closed_on = None if ctx["closed_on"] is None else sql.as_date(ctx["closed_on"])
    closed = capacity.is_closed(day, closed_on=closed_on, today=today)
    if closed and not past_limits:
        raise await booking_refusals.no_room(ctx, day=day, today=today, closed=True)
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
    limits = booking_refusals.limits(ctx)
    check_room = limits.any and not past_limits
    # Only a provider that shows tickets numbers its spots: everyone else's booking
    # stays one read and one insert.
    values["ticketed"] = ctx["board_names"] == board_rules.TICKETS
    if check_room or values["ticketed"]:
        inserted = await booking_refusals.insert_within(
            values, limits=limits if check_room else None, insert=_insert
        )
        if inserted is None:
            raise await booking_refusals.no_room(ctx, day=day, today=today, closed=False)
        appointment_id, ticket = inserted
    else:
        appointment_id, ticket = await _insert(sql.connection(), values)
    if quoted is not None and ticket is not None:
        quoted = replace(quoted, ticket=ticket)
    line_events.changed(ctx["account_id"], day)
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


async def _insert(conn: BaseDBAsyncClient, values: dict[str, Any]) -> tuple[int, int | None]:
    """The new appointment's id and its ticket number (None unless ticketed)."""
    query, args = bind(
        conn,
        _INSERT_TICKETED if values.get("ticketed") else _INSERT_APPOINTMENT,
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
    ticket = rows[0].get("ticket")
    return appointment_id, None if ticket is None else int(ticket)


async def join_line(
    *,
    user_phone: str,
    account: ServiceAccount,
    day: date,
    now: datetime | None = None,
) -> Spot:
    """Book `day` at `account` and say where that puts the user (book's errors apply)."""
    _, spot = await join(user_phone=user_phone, account=account, day=day, now=now)
    return spot


async def join(
    *,
    user_phone: str,
    account: ServiceAccount,
    day: date,
    now: datetime | None = None,
) -> tuple[int, Spot]:
    """join_line, with the new appointment's id (a status link names it)."""
    view, spot, _ = await _add(user_phone=user_phone, account=account, day=day, now=now)
    return view.id, spot


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
    _, spot, went_past = await _add(
        user_phone=user_phone, account=account, day=day, now=now, past_limits=past_limits
    )
    return spot, went_past


async def _add(
    *,
    user_phone: str,
    account: ServiceAccount,
    day: date,
    now: datetime | None,
    past_limits: bool = False,
) -> tuple[AppointmentView, Spot, bool]:
    went_past = False
    try:
        view, spot = await _book(
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
        view, spot = await _book(
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
    return view, spot, went_past
