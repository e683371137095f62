"""Seeding many closed appointments in one statement, for the stats and export tests."""

from __future__ import annotations

from datetime import date

from core.services import sql

# Each row i: day start + (i % days), status by i % 10 (a no-show, a cancellation, else
# served), booked 09:00, called 09:30, closed 10:00 (UTC).
_SEED = {
    "sqlite": """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
INSERT INTO appointments (user_id, service_account_id, appointment_date, day,
                          duration_minutes, status, penalty, created_at, called_at,
                          status_changed_at, rank_penalty, rank_at)
SELECT ?, ?, d || ' 09:00:00+00:00', d, 30,
       CASE i % 10 WHEN 0 THEN 'no_show' WHEN 1 THEN 'canceled' ELSE 'completed' END,
       0, d || ' 09:00:00+00:00', d || ' 09:30:00+00:00', d || ' 10:00:00+00:00',
       0, d || ' 09:00:00+00:00'
FROM (SELECT i, date(?, '+' || (i % ?) || ' days') AS d FROM n)
""",
    "postgres": """
INSERT INTO appointments (user_id, service_account_id, appointment_date, day,
                          duration_minutes, status, penalty, created_at, called_at,
                          status_changed_at, rank_penalty, rank_at)
SELECT $2, $3, (d + time '09:00') AT TIME ZONE 'UTC', d, 30,
       CASE i % 10 WHEN 0 THEN 'no_show' WHEN 1 THEN 'canceled' ELSE 'completed' END,
       0, (d + time '09:00') AT TIME ZONE 'UTC', (d + time '09:30') AT TIME ZONE 'UTC',
       (d + time '10:00') AT TIME ZONE 'UTC', 0, (d + time '09:00') AT TIME ZONE 'UTC'
FROM (SELECT i, $4::date + (i % $5) AS d FROM generate_series(0, $1 - 1) AS i) AS s
""",
}


async def seed_closed(*, user_id: int, account_id: int, count: int, start: date, days: int) -> None:
    conn = sql.connection()
    await conn.execute_query(
        _SEED[conn.capabilities.dialect],
        [count, user_id, account_id, sql.day_param(conn, start), days],
    )
