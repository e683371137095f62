"""Issue 6's targets, applied to a run's rows.

Ratios are taken round by round (the two rows of a ratio were measured in the same
rounds, see `context.measure`) and the median of those is reported: a drift of the
shared machine between rounds then cancels out instead of landing on one side.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.results import Report, Row, cpu_per_request
from bench.wrk import WrkResult

RSS_LIMIT_MB = 150


def paired_ratio(
    top: Row, bottom: Row, value: Callable[[WrkResult], float] = lambda r: r.rps
) -> float:
    ratios = [value(a) / value(b) for a, b in zip(top.runs, bottom.runs, strict=False) if value(b)]
    return statistics.median(ratios) if ratios else 0.0


def errors(row: Row) -> int:
    return sum(run.errors for run in row.runs)


def judge(report: Report) -> None:
    """Hold each PostgreSQL row to issue 6's targets; SQLite rows only to "no errors"."""

    def get(key: str) -> Row | None:
        row = report.row(key)
        return row if row is not None and row.result is not None else None

    base, book = get("PostgreSQL:baseline"), get("PostgreSQL:booking")
    if base:
        base.target = "reference"
    if book and book.result:
        book.target = "≥ 0.6× baseline, p99 ≤ 50 ms, 0 errors"
        if base:
            book.ratio, book.ratio_label = paired_ratio(book, base), "of baseline"
        book.met = (
            book.ratio is not None
            and book.ratio >= 0.6
            and book.result.p99_ms <= 50
            and errors(book) == 0
        )
    if (queue := get("PostgreSQL:queue")) and queue.result:
        queue.target = "≥ 1,500/s, p99 ≤ 50 ms"
        queue.met = queue.result.rps >= 1500 and queue.result.p99_ms <= 50 and errors(queue) == 0
        if queue_base := get("PostgreSQL:queue-baseline"):
            queue_base.target = "reference"
            queue.ratio, queue.ratio_label = paired_ratio(queue, queue_base), "of raw queue"
    if changing := get("PostgreSQL:queue-changing"):
        changing.target = "none: the page cache while the line changes"
        if changing_base := get("PostgreSQL:queue-changing-baseline"):
            changing_base.target = "reference"
            changing.ratio = paired_ratio(changing, changing_base)
            changing.ratio_label = "of raw queue"
    past, fresh = get("PostgreSQL:history"), get("PostgreSQL:newcomers")
    if past and fresh:
        past.ratio = paired_ratio(past, fresh, lambda r: r.p50_ms)
        p99 = paired_ratio(past, fresh, lambda r: r.p99_ms)
        past.ratio_label = f"p50 of new users (p99 {p99:.2f}×)"
        past.target = "p50 ≤ 1.2× new users"
        past.met = past.ratio <= 1.2 and errors(past) == 0 and errors(fresh) == 0
        fresh.target = "reference"
    for key in ("PostgreSQL:sms", "PostgreSQL:freetext"):
        if (sms := get(key)) and sms.result:
            sms.target = "≥ 1,000/s, p99 ≤ 50 ms"
            sms.met = sms.result.rps >= 1000 and sms.result.p99_ms <= 50 and errors(sms) == 0
    if (status := get("PostgreSQL:status-page")) and status.result:
        status.target = "≥ 2,000/s, p99 ≤ 50 ms"
        status.met = (
            status.result.rps >= 2000 and status.result.p99_ms <= 50 and errors(status) == 0
        )
    scale = get("PostgreSQL:scaleout")
    if scale and book:
        scale.ratio, scale.ratio_label = paired_ratio(scale, book), "of 1 process"
        scale.target = "> 1× of 1 process, 0 errors"
        scale.met = scale.ratio > 1 and errors(scale) == 0
    for row in report.rows:
        if row.database == "SQLite" and row.result is not None:
            row.target = "0 errors"
            row.met = errors(row) == 0


def judge_memory(report: Report) -> None:
    if report.server_rss_mb:
        worst = max(report.server_rss_mb)
        verdict = "met" if worst <= RSS_LIMIT_MB else "MISSED"
        report.memory.insert(
            0,
            f"largest `waitlist serve` process after the runs: {worst:.0f} MB "
            f"(target ≤ {RSS_LIMIT_MB} MB) — {verdict}",
        )


def scale_out_bound(report: Report) -> list[str]:
    """What the machine left a second server process, from the CPU the median runs used.

    One process is bounded by its own core; two are bounded by the whole machine, which
    the load generator and PostgreSQL share. A second process adds throughput only if
    the cores the first leaves idle outweigh what every party's CPU per request grows
    by once no core is idle.
    """
    one, two = report.row("PostgreSQL:booking"), report.row("PostgreSQL:scaleout")
    if not (one and two and one.result and two.result):
        return []
    a, b = one.result, two.result
    if not (a.cpu and b.cpu and a.requests and b.requests and a.cpu.machine_total):
        return []
    cores = report.facts.cpus
    seconds = a.cpu.machine_total / cores

    def busy(run: WrkResult) -> float:
        assert run.cpu is not None
        return run.cpu.machine_busy / run.cpu.machine_total

    def per_request(run: WrkResult) -> float:
        assert run.cpu is not None
        return 1000 * run.cpu.machine_busy / run.requests

    ceiling = b.rps / busy(b) if busy(b) else 0.0
    return [
        f"1 process: {a.rps:,.0f}/s; its server process used {a.cpu.server / seconds:.2f} "
        f"of a core and the machine was {busy(a):.0%} busy, "
        f"{per_request(a):.2f} ms of CPU per request in all",
        f"2 processes: {b.rps:,.0f}/s; the machine was {busy(b):.0%} busy, "
        f"{per_request(b):.2f} ms of CPU per request in all",
        f"With every one of the {cores} cores busy at the 2-process cost, the machine serves "
        f"at most {ceiling:,.0f}/s: {ceiling / a.rps:.2f}× the 1-process figure",
    ]


def against_before(report: Report) -> list[str]:
    """This build over the build before, per scenario: throughput from round-by-round
    ratios (the two ran in the same rounds), and the CPU each spent per request."""
    lines = []
    for before in report.rows:
        if not before.key.endswith("-before") or before.result is None:
            continue
        before.target = "reference: the build before"
        now = report.row(before.key.removesuffix("-before"))
        if now is None or now.result is None:
            continue
        ratio = paired_ratio(now, before)
        verdict = "ok" if ratio >= 0.95 else "**below 0.95×**"
        lines.append(
            f"{now.scenario} ({now.database}): {ratio:.2f}× the build before's throughput "
            f"(runs: {', '.join(f'{a.rps:,.0f}/{b.rps:,.0f}' for a, b in zip(now.runs, before.runs, strict=False))}); "
            f"p99 {now.result.p99_ms:.1f} against {before.result.p99_ms:.1f} ms; "
            f"CPU ms/request server / DB {cpu_per_request(now.result)} against "
            f"{cpu_per_request(before.result)} — {verdict}"
        )
    return lines


def judge_growth(report: Report, *, small_suffix: str = "-small") -> None:
    """Issue 16's growth targets: each scenario on the deep history against the same on
    the shallow one, measured in the same rounds: throughput ≥ 0.8× and p50 ≤ 1.25×."""
    for small in report.rows:
        if not small.key.endswith(small_suffix) or small.result is None:
            continue
        small.target = "reference: the small database"
        large = report.row(small.key.removesuffix(small_suffix))
        if large is None or large.result is None:
            continue
        large.ratio = paired_ratio(large, small)
        p50 = paired_ratio(large, small, lambda r: r.p50_ms)
        large.ratio_label = f"of the small database (p50 {p50:.2f}×)"
        large.target = "≥ 0.8× throughput, p50 ≤ 1.25× of the small database"
        large.met = (
            large.ratio >= 0.8 and p50 <= 1.25 and errors(large) == 0 and errors(small) == 0
        )
