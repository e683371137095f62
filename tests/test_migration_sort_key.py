"""Migration 0011 stores each spot's sort key, on a database migrated to 0010 and filled
by plain SQL: every line keeps its order, and rows written without a key get one."""

# ruff: noqa: S608 (the rows are written as literal SQL on purpose: the test bypasses every check)

from __future__ import annotations

from tests.test_migration_canonical_phones import account, migrate, sql, user

DAY = "'2026-11-18'"


def appointment(i: int, user_id: int, status: str, penalty: float, created: str) -> str:
    return (
        "INSERT INTO appointments (id, user_id, service_account_id, appointment_date, day,"
        " duration_minutes, status, penalty, created_at)"
        f" VALUES ({i}, {user_id}, 1, '2026-11-18 10:00:00+00:00', {DAY}, 30, '{status}',"
        f" {penalty}, '2026-11-18 {created}+00:00')"
    )


# (id, user, status, penalty, booked at): the penalty ranks 3 first, then booking time.
ROWS = [
    (1, 1, "active", 0.5, "08:00:00"),
    (2, 2, "active", 0.0, "08:30:00"),
    (3, 3, "active", 0.0, "08:10:00.250000"),
    (4, 4, "canceled", 0.0, "07:00:00"),
]
OLD_ORDER = "ORDER BY penalty, created_at, id"
NEW_ORDER = "ORDER BY rank_penalty, rank_at, id"


async def _spa_with(url: str, customers: int, *rows: str) -> None:
    """A provider, `customers` users (ids from 1) and `rows`, written as plain SQL."""
    people = (user(n, f"+1415555010{n}") for n in range(1, customers + 1))
    await sql(url, account(1, "+12025550179", "UTC", "SPA"), *people, *rows)


async def _ids(url: str, order: str) -> list[int]:
    [rows] = await sql(
        url, f"SELECT id FROM appointments WHERE status = 'active' AND day = {DAY} {order}"
    )
    return [row["id"] for row in rows]


async def _line_version(url: str) -> int:
    [rows] = await sql(
        url, f"SELECT COALESCE(SUM(n), 0) AS v FROM line_versions WHERE day = {DAY}"
    )
    return int(rows[0]["v"])


async def test_existing_appointments_get_the_key_they_ranked_by_and_keep_their_order(fresh_url):
    await migrate(fresh_url, target="models.0010_canonical_phones")
    await _spa_with(fresh_url, 4, *(appointment(*row) for row in ROWS))
    before = await _ids(fresh_url, OLD_ORDER)
    assert before == [3, 2, 1]

    await migrate(fresh_url)

    [rows] = await sql(
        fresh_url,
        "SELECT id, penalty, rank_penalty, created_at, rank_at FROM appointments ORDER BY id",
    )
    assert [(r["rank_penalty"], r["rank_at"]) for r in rows] == [
        (r["penalty"], r["created_at"]) for r in rows
    ]
    assert await _ids(fresh_url, NEW_ORDER) == before


async def test_a_row_written_without_a_key_gets_its_penalty_and_booking_time(fresh_url):
    """Plain SQL, or a server built before 0011 on the same database, knows no key."""
    await migrate(fresh_url)
    await _spa_with(
        fresh_url,
        2,
        appointment(1, 1, "active", 1.5, "08:00:00"),
        # One written with a key keeps it.
        "INSERT INTO appointments (id, user_id, service_account_id, appointment_date, day,"
        " duration_minutes, status, penalty, created_at, rank_penalty, rank_at)"
        f" VALUES (2, 2, 1, '2026-11-18 10:00:00+00:00', {DAY}, 30, 'active', 0.0,"
        " '2026-11-18 08:05:00+00:00', 2.0, '2026-11-18 08:05:00+00:00')",
    )
    [rows] = await sql(
        fresh_url, "SELECT id, rank_penalty, penalty, rank_at, created_at FROM appointments"
    )
    keys = {r["id"]: (r["rank_penalty"], r["rank_at"]) for r in rows}
    first = next(r for r in rows if r["id"] == 1)
    assert keys[1] == (1.5, first["created_at"])
    assert keys[2][0] == 2.0
    assert await _ids(fresh_url, NEW_ORDER) == [1, 2]


async def test_setting_a_key_still_bumps_the_lines_version(fresh_url):
    await migrate(fresh_url)
    await _spa_with(fresh_url, 1, appointment(1, 1, "active", 0.0, "08:00:00"))
    before = await _line_version(fresh_url)
    assert before >= 1
    await sql(fresh_url, "UPDATE appointments SET rank_penalty = -1 WHERE id = 1")
    assert await _line_version(fresh_url) > before


async def test_the_line_index_is_on_the_key_after_migrating_and_back_on_the_penalty_before(
    fresh_url,
):
    from tests.conftest import ON_POSTGRES

    query = (
        "SELECT indexdef AS d FROM pg_indexes WHERE indexname = 'idx_active_queue'"
        if ON_POSTGRES
        else "SELECT sql AS d FROM sqlite_master WHERE name = 'idx_active_queue'"
    )
    await migrate(fresh_url)
    [[index]] = await sql(fresh_url, query)
    assert "rank_penalty, rank_at, id" in index["d"]
    assert "status" in index["d"]
    assert "'active'" in index["d"]
    await migrate(fresh_url, target="models.0010_canonical_phones")
    [[index]] = await sql(fresh_url, query)
    assert "penalty, created_at, id" in index["d"]
