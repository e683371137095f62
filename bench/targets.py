"""Issue 6's targets, applied to a run's rows."""

from __future__ import annotations

from bench.results import Report, Row


def judge(report: Report) -> None:
    """Hold each PostgreSQL row to issue 6's targets; SQLite rows only to "no errors"."""

    def get(key: str) -> Row | None:
        row = report.row(key)
        return row if row is not None and row.result is not None else None

    base, book = get("PostgreSQL:baseline"), get("PostgreSQL:booking")
    if base:
        base.target = "reference"
    if book:
        book.target = "≥ 0.6× baseline, p99 ≤ 50 ms, 0 errors"
        r = book.result
        assert r is not None
        if base and base.result:
            book.ratio, book.ratio_label = r.rps / base.result.rps, "of baseline"
        book.met = book.ratio is not None and book.ratio >= 0.6 and r.p99_ms <= 50 and r.errors == 0
    if queue := get("PostgreSQL:queue"):
        queue.target = "≥ 1,500/s, p99 ≤ 50 ms"
        r = queue.result
        assert r is not None
        queue.met = r.rps >= 1500 and r.p99_ms <= 50 and r.errors == 0
        queue_base = get("PostgreSQL:queue-baseline")
        if queue_base and queue_base.result:
            queue_base.target = "reference"
            queue.ratio = r.rps / queue_base.result.rps
            queue.ratio_label = "of raw queue"
    past, fresh = get("PostgreSQL:history"), get("PostgreSQL:newcomers")
    if past and fresh and past.result and fresh.result:
        past.ratio = past.result.p50_ms / fresh.result.p50_ms
        past.ratio_label = f"p50 of new users (p99 {past.result.p99_ms / fresh.result.p99_ms:.2f}×)"
        past.target = "p50 ≤ 1.2× new users"
        past.met = past.ratio <= 1.2 and past.result.errors == 0 and fresh.result.errors == 0
        fresh.target = "reference"
    if sms := get("PostgreSQL:sms"):
        sms.target = "≥ 1,000/s, p99 ≤ 50 ms"
        r = sms.result
        assert r is not None
        sms.met = r.rps >= 1000 and r.p99_ms <= 50 and r.errors == 0
    scale = get("PostgreSQL:scaleout")
    if scale and book and scale.result and book.result:
        scale.ratio, scale.ratio_label = scale.result.rps / book.result.rps, "of 1 process"
        scale.target = "> 1× of 1 process, 0 errors"
        scale.met = scale.ratio > 1 and scale.result.errors == 0
    for row in report.rows:
        if row.database == "SQLite" and row.result is not None:
            row.target = "0 errors"
            row.met = row.result.errors == 0


def judge_memory(report: Report) -> None:
    if report.server_rss_mb:
        worst = max(report.server_rss_mb)
        verdict = "met" if worst <= 150 else "MISSED"
        report.memory.insert(
            0,
            f"largest server process after the runs: {worst:.0f} MB (target ≤ 150 MB) — {verdict}",
        )
