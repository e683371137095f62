"""The baseline: a minimal aiohttp + raw asyncpg server doing a booking's SQL work.

It answers `POST /appointments/` with the same request and response shape as the
real API, on the schema the project's migrations build, with no ORM and no
framework around the handler. Its throughput is what this machine can do for a
booking; the benchmark reports the real server as a ratio to it. It also answers
`GET /appointments/?service_account_phone=..&day=..` (the queue, one statement),
as a reference for what a queue read can cost here.

The SQL is what a booking needs and no more: the user by phone, the service
account by phone (time zone and scoring settings), the (user, account) running
score, and the insert, which the partial unique index turns into a 400 when the
user already has an active appointment that day. The pure rules (phones, days,
penalty) are the project's own, so both servers pay for the same Python work.

    python -m bench.baseline_server --port 8100 --database-url postgres://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from core.rules import penalty as penalty_rules
from core.rules.days import (
    InvalidDate,
    local_day,
    parse_appointment_moment,
    parse_day,
    today_in,
)
from core.rules.phones import InvalidPhone, normalize_phone

POOL_KEY = web.AppKey("pool", asyncpg.Pool)

USER_SQL = "SELECT id, phone FROM users WHERE phone = $1"
ACCOUNT_SQL = (
    "SELECT id, phone, timezone, enable_cancellation_scoring, cancellation_weight,"
    " no_show_weight, penalty_half_life_days FROM service_accounts WHERE phone = $1"
)
SCORE_SQL = (
    "SELECT cancellations, no_shows, as_of FROM reliability_scores"
    " WHERE user_id = $1 AND service_account_id = $2"
)
# The literal 'active' lets the plan use the partial queue index even when generic;
# the order is the line's sort key (core.services.line_order).
QUEUE_SQL = (
    "SELECT a.id, u.phone AS user_phone, sa.phone AS service_account_phone,"
    " a.appointment_date, a.day, a.duration_minutes, a.notes, a.status, a.penalty, a.created_at"
    " FROM appointments a JOIN users u ON u.id = a.user_id"
    " JOIN service_accounts sa ON sa.id = a.service_account_id"
    " WHERE a.service_account_id = (SELECT id FROM service_accounts WHERE phone = $1)"
    " AND a.status = 'active' AND a.day = $2"
    " ORDER BY a.rank_penalty, a.rank_at, a.id OFFSET $3 LIMIT $4"
)
INSERT_SQL = (
    "INSERT INTO appointments (user_id, service_account_id, appointment_date, day,"
    " duration_minutes, notes, status, penalty, created_at, rank_penalty, rank_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $7, $8) RETURNING id"
)


def _json(status: int, body: dict[str, Any]) -> web.Response:
    # OPT_UTC_Z writes UTC as "Z", as pydantic does in the real API.
    return web.Response(
        status=status,
        body=orjson.dumps(body, option=orjson.OPT_UTC_Z),
        content_type="application/json",
    )


def _error(status: int, detail: str) -> web.Response:
    return _json(status, {"detail": detail})


async def book(request: web.Request) -> web.Response:
    try:
        payload = orjson.loads(await request.read())
        user_phone = normalize_phone(payload["user_phone"])
        account_phone = normalize_phone(payload["service_account_phone"])
        raw_date = payload["appointment_date"]
        duration = int(payload.get("duration_minutes", 30))
        notes = payload.get("notes")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InvalidPhone) as exc:
        return _error(422, str(exc))
    if not 1 <= duration <= 1440:
        return _error(422, "duration_minutes must be between 1 and 1440")

    pool = request.app[POOL_KEY]
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        user = await conn.fetchrow(USER_SQL, user_phone)
        if user is None:
            return _error(404, "User not found")
        account = await conn.fetchrow(ACCOUNT_SQL, account_phone)
        if account is None:
            return _error(404, "Service account not found")
        try:
            moment = parse_appointment_moment(raw_date, account["timezone"])
        except InvalidDate as exc:
            return _error(422, str(exc))
        day = local_day(moment, account["timezone"])
        if day < today_in(account["timezone"], now=now):
            return _error(422, "appointment_date is in the past for this service account")
        row = await conn.fetchrow(SCORE_SQL, user["id"], account["id"])
        score = None if row is None else penalty_rules.Score(*row)
        weights = penalty_rules.Weights(
            enabled=account["enable_cancellation_scoring"],
            cancellation=account["cancellation_weight"],
            no_show=account["no_show_weight"],
            half_life_days=account["penalty_half_life_days"],
        )
        value = penalty_rules.penalty(score, weights, now=now)
        try:
            new_id = await conn.fetchval(
                INSERT_SQL, user["id"], account["id"], moment, day, duration, notes, value, now
            )
        except asyncpg.UniqueViolationError:
            return _error(
                400, f"An active appointment already exists for this user on {day.isoformat()}"
            )
    data = {
        "id": new_id,
        "user_phone": user["phone"],
        "service_account_phone": account["phone"],
        "appointment_date": moment.isoformat(),
        "duration_minutes": duration,
        "notes": notes,
        "status": "active",
        "penalty": value,
        "created_at": now.isoformat(),
    }
    return _json(
        201, {"success": True, "message": "Appointment created successfully", "data": data}
    )


async def queue(request: web.Request) -> web.Response:
    """The queue for one day: one statement, rows straight to JSON."""
    try:
        account_phone = normalize_phone(request.query["service_account_phone"])
        day = parse_day(request.query["day"])
        skip = int(request.query.get("skip", 0))
        limit = int(request.query.get("limit", 100))
    except (KeyError, ValueError) as exc:
        return _error(422, str(exc))
    async with request.app[POOL_KEY].acquire() as conn:
        rows = await conn.fetch(QUEUE_SQL, account_phone, day, skip, limit)
    data = [dict(row) for row in rows]
    message = "Appointments queue retrieved successfully"
    return _json(200, {"success": True, "message": message, "data": data})


async def healthz(_: web.Request) -> web.Response:
    return _json(200, {"status": "ok"})


def create_app(database_url: str, pool_size: int) -> web.Application:
    app = web.Application()

    async def pool_ctx(app: web.Application) -> Any:
        dsn = database_url.replace("postgres://", "postgresql://", 1)
        async with asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size) as pool:
            app[POOL_KEY] = pool
            yield

    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post("/appointments/", book)
    app.router.add_post("/appointments", book)
    app.router.add_get("/appointments/", queue)
    app.router.add_get("/appointments", queue)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--database-url", required=True)
    # asyncpg's own default pool size; the real server's pool is set by its DATABASE_URL.
    parser.add_argument("--pool-size", type=int, default=10)
    args = parser.parse_args(argv)
    web.run_app(
        create_app(args.database_url, args.pool_size),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=asyncio.new_event_loop(),
    )


if __name__ == "__main__":
    main()
