"""The growth scenario's parts that run without a bench: its verdicts, the plans it
reads from a server log, and its seeding of a real migrated database."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bench import growth, growth_seed
from bench.databases import asyncpg_dsn
from bench.machine import Facts
from bench.results import Report, Row
from bench.targets import judge_growth
from bench.wrk import WrkResult
from tests.conftest import ON_POSTGRES


def _run(rps: float, p50: float) -> WrkResult:
    return WrkResult(
        requests=int(rps * 10),
        duration_s=10.0,
        p50_ms=p50,
        p90_ms=p50 * 1.5,
        p99_ms=p50 * 2,
        max_ms=p50 * 3,
        socket_errors=0,
        non2xx=0,
        exhausted=False,
        sample="",
    )


def _report(large: list[WrkResult], small: list[WrkResult]) -> Report:
    facts = Facts("abc1234", False, 2, "cpu", 24.0, "6", "3.11", "15", "3.40", "wrk", {})
    report = Report(facts=facts, options="")
    report.rows = [
        Row("Growth:growth-sms", "SMS (large history)", "Growth", 1, large[0], large),
        Row("Growth:growth-sms-small", "SMS (small history)", "Growth", 1, small[0], small),
    ]
    return report


def test_a_large_history_within_the_targets_is_met_against_the_same_rounds_small():
    report = _report([_run(900, 11), _run(700, 13)], [_run(1000, 10), _run(800, 12)])
    judge_growth(report)
    large, small = report.rows
    # Round by round: 0.9 and 0.875, median 0.8875; p50 1.1 and 1.083.
    assert large.ratio == pytest.approx(0.8875)
    assert large.met is True
    assert "p50 1.09×" in large.ratio_label
    assert small.target == "reference: the small database"


@pytest.mark.parametrize(
    ("large", "why"),
    [(_run(790, 10), "throughput under 0.8×"), (_run(1000, 12.6), "p50 over 1.25×")],
)
def test_a_large_history_past_either_target_is_missed(large, why):
    report = _report([large], [_run(1000, 10)])
    judge_growth(report)
    assert report.rows[0].met is False, why


def test_the_plans_are_the_large_databases_own_statements_without_the_drivers(tmp_path: Path):
    log = tmp_path / "server.log"
    log.write_text(
        "2026-12-03 18:00:00.000 UTC [1] db=growth_small LOG:  duration: 0.1 ms  plan:\n"
        "\tQuery Text: SELECT 1 FROM users WHERE phone = $1\n"
        "\tSeq Scan on users  (cost=0.00..1.01 rows=1 width=4) (actual time=0.1..0.1 rows=1 loops=1)\n"
        "2026-12-03 18:00:00.000 UTC [2] db=growth LOG:  duration: 0.1 ms  plan:\n"
        "\tQuery Text: SELECT current_setting('jit') AS cur\n"
        "\tResult  (cost=0.00..0.01 rows=1 width=64) (actual time=0.1..0.1 rows=1 loops=1)\n"
        "2026-12-03 18:00:00.000 UTC [2] db=growth LOG:  duration: 0.2 ms  plan:\n"
        "\tQuery Text: SELECT id FROM users\n"
        "\t  WHERE phone = $1\n"
        "\tIndex Scan using users_phone_key on users  (cost=0.42..8.44 rows=1 width=4) "
        "(actual time=0.02..0.02 rows=1 loops=1)\n"
        "\t  Index Cond: ((phone)::text = $1)\n"
        "2026-12-03 18:00:00.000 UTC [2] db=growth LOG:  checkpoint starting: time\n"
    )
    plans = growth._parse_plans(log, 0, database="growth")
    assert plans == {
        "SELECT id FROM users WHERE phone = $1": (
            "Index Scan using users_phone_key on users  (actual time=0.02..0.02 rows=1 loops=1)\n"
            "  Index Cond: ((phone)::text = $1)"
        )
    }


def test_the_shape_at_a_scale_is_the_issues_history_scaled():
    full = growth_seed.Shape.at(1.0)
    assert (full.providers, full.users, full.appointments, full.messages) == (
        10_000,
        1_000_000,
        10_000_000,
        10_000_000,
    )
    assert growth_seed.Shape.at(0.001).appointments == 10_000


@pytest.mark.skipif(not ON_POSTGRES, reason="the growth history is seeded with COPY on PostgreSQL")
async def test_the_history_is_seeded_with_its_indexes_rebuilt_and_sequences_past_it(
    database_url,
):
    shape = growth_seed.Shape.at(0.0002)
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        indexes_before = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        )
        seeded = await growth_seed.seed(database_url, shape)
        await growth_seed.align_sequences([database_url])
        counts = list(
            await conn.fetchrow(
                "SELECT (SELECT count(*) FROM service_accounts), (SELECT count(*) FROM users),"
                " (SELECT count(*) FROM appointments), (SELECT count(*) FROM inbound_messages)"
            )
        )
        assert counts == [shape.providers, shape.users, shape.appointments, shape.messages]
        indexes_after = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        )
        assert [tuple(r) for r in indexes_after] == [tuple(r) for r in indexes_before]
        # Every missed or left appointment is in its person's running score there.
        missed = await conn.fetchval(
            "SELECT count(*) FROM appointments WHERE status IN ('canceled', 'no_show')"
        )
        scored = await conn.fetchval(
            "SELECT sum(cancellations + no_shows)::int FROM reliability_scores"
        )
        assert missed == scored > 0
        # Triggers were off: no line was versioned for the past.
        assert await conn.fetchval("SELECT count(*) FROM line_versions") == 0
        next_user = await conn.fetchval(
            "INSERT INTO users (name, phone, created_at) VALUES ('New', '+14155550199', now())"
            " RETURNING id"
        )
        assert next_user > shape.users
        assert set(seeded.steps) >= {"COPY appointments", "indexes", "ANALYZE"}
    finally:
        await conn.close()
