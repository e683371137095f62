"""Use cases for appointments: book, read the queue, cancel, complete, mark a no-show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    NotFound,
    TooEarly,
    TooFarAhead,
)
from core.models import Appointment, ReliabilityScore, ServiceAccount, Status, User
from core.rules import days as day_rules
from core.rules import limits
from core.rules import penalty as penalty_rules
from core.rules.days import today_in, utcnow
from core.rules.queue_spot import Spot
from core.rules.visits import too_early_to_close
from core.services import line_pages, lines, notices, sql

MIN_DURATION, MAX_DURATION = 1, 1440

_VIEW_FIELDS = (
    "id",
    "user__phone",
    "service_account__phone",
    "appointment_date",
    "day",
    "duration_minutes",
    "notes",
    "status",
    "penalty",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: int
    user_phone: str
    service_account_phone: str
    appointment_date: datetime
    day: date
    duration_minutes: int
    notes: str | None
    status: Status
    penalty: float
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AppointmentView:
        return cls(
            id=row["id"],
            user_phone=row["user__phone"],
            service_account_phone=row["service_account__phone"],
            appointment_date=row["appointment_date"],
            day=row["day"],
            duration_minutes=row["duration_minutes"],
            notes=row["notes"],
            status=Status(row["status"]),
            penalty=row["penalty"],
            created_at=row["created_at"],
        )


def _score_of(row: ReliabilityScore | None) -> penalty_rules.Score | None:
    if row is None:
        return None
    return penalty_rules.Score(row.cancellations, row.no_shows, row.as_of)


async def _get_user(phone: str) -> User:
    user = await User.get_or_none(phone=phone)
    if user is None:
        raise NotFound("User not found")
    return user


async def _get_account(phone: str) -> ServiceAccount:
    account = await ServiceAccount.get_or_none(phone=phone)
    if account is None:
        raise NotFound("Service account not found")
    return account


_BOOKING_CONTEXT = """
SELECT u.id AS user_id, sa.id AS account_id, sa.timezone, sa.booking_horizon_days,
       sa.enable_cancellation_scoring, sa.cancellation_weight, sa.no_show_weight,
       sa.penalty_half_life_days, rs.cancellations, rs.no_shows, rs.as_of
FROM users u
CROSS JOIN service_accounts sa
LEFT JOIN reliability_scores rs ON rs.user_id = u.id AND rs.service_account_id = sa.id
WHERE u.phone = {} AND sa.phone = {}
"""


_INSERT_APPOINTMENT = """
INSERT INTO appointments (user_id, service_account_id, appointment_date, day,
                          duration_minutes, notes, status, penalty, created_at)
VALUES ({}, {}, {}, {}, {}, {}, 'active', {}, {})
RETURNING id
"""


async def _booking_context(user_phone: str, service_account_phone: str) -> dict[str, Any]:
    """User, provider and their running score in one round trip."""
    conn = sql.connection()
    query = _BOOKING_CONTEXT.format(*sql.params(conn, 2))
    rows = await conn.execute_query_dict(query, [user_phone, service_account_phone])
    if not rows:
        # Only the refusal pays for finding out which one is missing.
        await _get_user(user_phone)
        await _get_account(service_account_phone)
        raise NotFound("User or service account not found")
    return rows[0]


async def book(
    *,
    user_phone: str,
    service_account_phone: str,
    appointment_date: str | datetime | date,
    duration_minutes: int = 30,
    notes: str | None = None,
    now: datetime | None = None,
) -> AppointmentView:
    """Book one appointment: one read and one insert, whatever the user's history.

    The day must be from the provider's today to its booking horizon: InvalidInput
    for a past day, TooFarAhead (an InvalidInput) past the horizon.
    """
    now = now or utcnow()
    if not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        raise InvalidInput(f"duration_minutes must be between {MIN_DURATION} and {MAX_DURATION}")
    ctx = await _booking_context(user_phone, service_account_phone)
    timezone = ctx["timezone"]
    try:
        moment, day = day_rules.booking_moment(
            appointment_date, timezone, now=now, horizon_days=ctx["booking_horizon_days"]
        )
    except day_rules.BeyondHorizon as exc:
        raise TooFarAhead(
            f"appointment_date is too far ahead: {exc}",
            horizon_days=exc.horizon_days,
            last_day=exc.last_day,
        ) from exc
    except (day_rules.InvalidDate, day_rules.DayPassed) as exc:
        raise InvalidInput(str(exc)) from exc
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
    penalty = penalty_rules.penalty(score, weights, now=now)
    conn = sql.connection()
    values = [
        ctx["user_id"],
        ctx["account_id"],
        sql.datetime_param(conn, moment),
        sql.day_param(conn, day),
        duration_minutes,
        notes,
        penalty,
        sql.datetime_param(conn, now),
    ]
    try:
        rows = await conn.execute_query_dict(
            _INSERT_APPOINTMENT.format(*sql.params(conn, len(values))), values
        )
    except IntegrityError as exc:
        raise AlreadyExists(
            f"An active appointment already exists for this user on {day.isoformat()}"
        ) from exc
    return AppointmentView(
        id=rows[0]["id"],
        user_phone=user_phone,
        service_account_phone=service_account_phone,
        appointment_date=moment,
        day=day,
        duration_minutes=duration_minutes,
        notes=notes,
        status=Status.ACTIVE,
        penalty=penalty,
        created_at=now,
    )


_QUEUE = """
SELECT a.id, u.phone AS user_phone, a.appointment_date, a.day, a.duration_minutes,
       a.notes, a.status, a.penalty, a.created_at
FROM appointments a
JOIN users u ON u.id = a.user_id
WHERE a.service_account_id = (SELECT id FROM service_accounts WHERE phone = {account})
  AND a.status = 'active' AND a.day {day_op} {day}{user}
ORDER BY a.day, a.penalty, a.created_at, a.id
LIMIT {limit} OFFSET {skip}
"""

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
    'service_account_phone', {{account}}::text,
    'appointment_date', {_UTC.format(c="p.appointment_date")},
    'day', to_char(p.day, 'YYYY-MM-DD'),
    'duration_minutes', p.duration_minutes,
    'notes', p.notes,
    'status', p.status,
    'penalty', CASE WHEN p.penalty = trunc(p.penalty) AND abs(p.penalty) < 1e15
                    THEN (trunc(p.penalty)::bigint::text || '.0')::json
                    ELSE to_json(p.penalty) END,
    'created_at', {_UTC.format(c="p.created_at")}
) ORDER BY p.day, p.penalty, p.created_at, p.id), '[]')::text AS page
FROM ({{page}}) p
"""  # noqa: S608 - built from constants only; values are bound parameters


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
        account = await _get_account(phone)
        since, day_op = today_in(account.timezone, now=now or utcnow()), ">="
    else:
        since, day_op = day, "="
    conn = sql.connection()
    args: list[Any] = [phone, sql.day_param(conn, since)]
    if selection.user_phone is not None:
        args.append(selection.user_phone)
    args += [selection.limit, selection.skip]
    marks = sql.params(conn, len(args))
    query = _QUEUE.format(
        account=marks[0],
        day_op=day_op,
        day=marks[1],
        user=f" AND u.phone = {marks[2]}" if selection.user_phone is not None else "",
        limit=marks[-2],
        skip=marks[-1],
    )
    if as_json:
        query = _QUEUE_JSON.format(account=marks[0], page=query)
    rows = await conn.execute_query_dict(query, args)
    empty = rows[0]["page"] == "[]" if as_json else not rows
    if empty and day is not None:
        _check_listable(await _get_account(phone), day, now=now or utcnow())
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
    """The ranked queue of ACTIVE appointments; without a day, today and later.

    One statement when the day is given: the provider is looked up inside it, and only
    an empty page pays for telling "no such provider" (404) from "nobody waiting".
    Filtering and ordering follow the partial index idx_active_queue with the literal
    'active', so PostgreSQL can use that index and reads only the page it returns.
    """
    rows = await _queue_rows(selection, now=now, as_json=False)
    return [
        AppointmentView(
            id=row["id"],
            user_phone=row["user_phone"],
            service_account_phone=selection.service_account_phone,
            appointment_date=sql.as_datetime(row["appointment_date"]),
            day=sql.as_date(row["day"]),
            duration_minutes=row["duration_minutes"],
            notes=row["notes"],
            status=Status(row["status"]),
            penalty=row["penalty"],
            created_at=sql.as_datetime(row["created_at"]),
        )
        for row in rows
    ]


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


async def get_appointment(*, appointment_id: int) -> Appointment:
    appointment = await Appointment.get_or_none(id=appointment_id).select_related(
        "user", "service_account"
    )
    if appointment is None:
        raise NotFound("Appointment not found")
    return appointment


async def user_appointments(*, user_id: int) -> list[AppointmentView]:
    rows = (
        await Appointment.filter(user_id=user_id)
        .order_by("day", "created_at", "id")
        .values(*_VIEW_FIELDS)
    )
    return [AppointmentView.from_row(row) for row in rows]


async def account_appointments(*, service_account_id: int) -> list[AppointmentView]:
    rows = (
        await Appointment.filter(service_account_id=service_account_id)
        .order_by("day", "penalty", "created_at", "id")
        .values(*_VIEW_FIELDS)
    )
    return [AppointmentView.from_row(row) for row in rows]


_VERBS = {
    Status.CANCELED: "canceled",
    Status.COMPLETED: "completed",
    Status.NO_SHOW: "marked as no-show",
}
_CLOSES_VISIT = frozenset({Status.COMPLETED, Status.NO_SHOW})
_EVENTS = {
    Status.CANCELED: penalty_rules.Event.CANCELED,
    Status.NO_SHOW: penalty_rules.Event.NO_SHOW,
}


async def change_status(
    *, appointment_id: int, to: Status, now: datetime | None = None
) -> Appointment:
    """Move an ACTIVE appointment to `to`, once, even under concurrent requests.

    Completing and marking a no-show wait for the appointment's day in the provider's
    time zone (TooEarly before it); a cancellation is allowed at any time.
    """
    if to not in _VERBS:
        raise InvalidInput(f"cannot change an appointment to {to}")
    now = now or utcnow()
    async with in_transaction("default") as conn:
        appointment = (
            await Appointment.filter(id=appointment_id)
            .using_db(conn)
            .select_related("user", "service_account")
            .first()
        )
        if appointment is None:
            raise NotFound("Appointment not found")
        if appointment.status is Status.ACTIVE and to in _CLOSES_VISIT:
            today = today_in(appointment.service_account.timezone, now=now)
            early = too_early_to_close(day=appointment.day, today=today)
            if early is not None:
                raise TooEarly(early, day=appointment.day)
        # The conditional update is the guard: of two racing changes, one updates a row.
        changed = await (
            Appointment.filter(id=appointment_id, status=Status.ACTIVE)
            .using_db(conn)
            .update(status=to, status_changed_at=now)
        )
        if not changed:
            await appointment.refresh_from_db(fields=["status"], using_db=conn)
            raise InvalidTransition(
                f"Only active appointments can be {_VERBS[to]}; this one is {appointment.status}"
            )
        appointment.status, appointment.status_changed_at = to, now
        event = _EVENTS.get(to)
        if event is not None:
            await _record_event(conn, appointment, event, now)
        await notices.line_moved(
            conn=conn, account=appointment.service_account, day=appointment.day, now=now
        )
    return appointment


async def cancel(*, appointment_id: int, now: datetime | None = None) -> Appointment:
    return await change_status(appointment_id=appointment_id, to=Status.CANCELED, now=now)


async def complete(*, appointment_id: int, now: datetime | None = None) -> Appointment:
    return await change_status(appointment_id=appointment_id, to=Status.COMPLETED, now=now)


async def mark_no_show(*, appointment_id: int, now: datetime | None = None) -> Appointment:
    return await change_status(appointment_id=appointment_id, to=Status.NO_SHOW, now=now)


async def _record_event(
    conn: BaseDBAsyncClient,
    appointment: Appointment,
    event: penalty_rules.Event,
    now: datetime,
) -> None:
    """Fold one event into the (user, provider) running score, serialised per pair."""
    keys = {"user_id": appointment.user_id, "service_account_id": appointment.service_account_id}
    row = await ReliabilityScore.filter(**keys).using_db(conn).select_for_update().first()
    half_life = appointment.service_account.penalty_half_life_days
    score = penalty_rules.record_event(_score_of(row), event, at=now, half_life_days=half_life)
    values = {
        "cancellations": score.cancellations,
        "no_shows": score.no_shows,
        "as_of": score.as_of,
    }
    if row is not None:
        await ReliabilityScore.filter(id=row.id).using_db(conn).update(**values)
        return
    try:
        async with in_transaction("default") as inner:
            await ReliabilityScore.create(**keys, **values, using_db=inner)
    except IntegrityError:
        # A concurrent first event created the row; fold ours into it under its lock.
        await _record_event(conn, appointment, event, now)


# The conversation engine's view of the line ---------------------------------------


async def spot_of(*, appointment_id: int) -> Spot | None:
    """Position, people ahead and wait of an ACTIVE, not yet called appointment."""
    return await lines.spot(appointment_id=appointment_id)


async def join_line(
    *, user_phone: str, account: ServiceAccount, day: date, now: datetime | None = None
) -> Spot:
    """Book `day` at `account` and say where that puts the user (book's errors apply)."""
    view = await book(
        user_phone=user_phone, service_account_phone=account.phone, appointment_date=day, now=now
    )
    spot = await spot_of(appointment_id=view.id)
    # Only a NEXT landing between the two queries leaves it out of the waiting line.
    return spot or Spot(position=1, ahead=0, wait_minutes=0)


async def active_on_day(*, user_phone: str, day: date) -> Appointment | None:
    """The user's one active appointment on `day`, with its provider."""
    return (
        await Appointment.filter(user__phone=user_phone, day=day, status=Status.ACTIVE)
        .select_related("service_account")
        .first()
    )


@dataclass(frozen=True, slots=True)
class Called:
    appointment: Appointment
    user: User
    still_waiting: int


async def call_next(*, service_account_phone: str, now: datetime | None = None) -> Called | None:
    """Call the first person waiting today; they hear it is their turn. None if nobody waits."""
    now = now or utcnow()
    account = await _get_account(service_account_phone)
    today = today_in(account.timezone, now=now)
    async with in_transaction("default") as conn:
        while True:
            line = await lines.waiting(
                service_account_id=account.id, day=today, limit=1, using_db=conn
            )
            if not line:
                return None
            first = line[0]
            # Of two providers' devices pressing NEXT at once, each calls a different person.
            won = await (
                Appointment.filter(id=first.id, status=Status.ACTIVE, called_at__isnull=True)
                .using_db(conn)
                .update(called_at=now)
            )
            if won:
                break
        first.called_at = now
        await notices.your_turn(conn=conn, appointment=first, account=account, now=now)
        await notices.line_moved(conn=conn, account=account, day=today, now=now)
        still_waiting = await lines.count_waiting(
            service_account_id=account.id, day=today, using_db=conn
        )
    return Called(first, first.user, still_waiting)


async def closable(
    *,
    service_account_phone: str,
    position: int | None = None,
    appointment_id: int | None = None,
    now: datetime | None = None,
) -> Appointment | None:
    """The active appointment a provider's DONE / NOSHOW means: `#id`, today's position
    n, or else the person called longest ago."""
    account = await _get_account(service_account_phone)
    query = Appointment.filter(service_account_id=account.id, status=Status.ACTIVE)
    if appointment_id is not None:
        # Read from a text: an id no row can have is no appointment, not a query.
        if not limits.is_id(appointment_id):
            return None
        return await query.filter(id=appointment_id).select_related("user").first()
    today = today_in(account.timezone, now=now or utcnow())
    if position is not None:
        if not limits.is_position(position):
            return None
        line = await lines.waiting(service_account_id=account.id, day=today, limit=position)
        return line[position - 1] if position <= len(line) else None
    return (
        await query.filter(called_at__isnull=False, day__lte=today)
        .order_by("called_at", "id")
        .select_related("user")
        .first()
    )
