"""Measured rows, the targets they are held to, and RESULTS.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import Facts
from bench.wrk import WrkResult


@dataclass
class Row:
    key: str
    scenario: str
    database: str
    processes: int
    result: WrkResult | None
    # Every measured repetition; `result` is the median one by throughput.
    runs: list[WrkResult] = field(default_factory=list)
    note: str = ""
    ratio: float | None = None
    ratio_label: str = ""
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    facts: Facts
    options: str
    rows: list[Row] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    # VmRSS of the largest serving process of each `waitlist serve` after its runs.
    server_rss_mb: list[float] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    # What bounded `waitlist serve --workers 2` on this machine (targets.scale_out_bound).
    scale_out: list[str] = field(default_factory=list)
    # The web screens' fan-out figures (bench.screens), one line each.
    screens: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # This build against the build before (BENCH_BEFORE), scenario by scenario.
    before: list[str] = field(default_factory=list)
    # The growth scenario (bench.growth): its cluster, seeding, sizes and verdicts, then
    # each hot statement's text and plan.
    growth: list[str] = field(default_factory=list)
    growth_plans: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self, key: str) -> Row | None:
        return next((row for row in self.rows if row.key == key), None)


def median_run(runs: list[WrkResult]) -> WrkResult:
    ordered = sorted(runs, key=lambda run: run.rps)
    return ordered[(len(ordered) - 1) // 2]


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: ""}[met]


def cpu_per_request(result: WrkResult) -> str:
    """Server and database CPU per request: what the figure costs, whatever else ran."""
    if result.cpu is None or not result.requests:
        return ""
    per = 1000 / result.requests
    database = f"{result.cpu.postgres * per:.2f}" if result.cpu.postgres else "–"
    return f"{result.cpu.server * per:.2f} / {database}"


def table(rows: list[Row]) -> str:
    lines = [
        "| Scenario | DB | Procs | req/s | p50 ms | p99 ms | errors | CPU ms/req server / DB "
        "| ratio | target | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    for row in rows:
        r = row.result
        ratio = f"{row.ratio:.2f}× {row.ratio_label}" if row.ratio is not None else ""
        if r is None:
            lines.append(
                f"| {row.scenario} | {row.database} | {row.processes} | – | – | – | – | – "
                f"| | {row.target} | {row.note or 'not run'} |"
            )
            continue
        errors = str(r.errors) + (" (keys ran out)" if r.exhausted else "")
        lines.append(
            f"| {row.scenario} | {row.database} | {row.processes} | {r.rps:,.0f} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} | {errors} | {cpu_per_request(r)} | {ratio} | {row.target} | "
            f"{_verdict(row.met)} |"
        )
    return "\n".join(lines)


def runs_detail(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        for n, run in enumerate(row.runs, 1):
            lines.append(
                f"- {row.scenario} ({row.database}, {row.processes} proc) run {n}: "
                f"{run.requests} requests in {run.duration_s:.1f} s = {run.rps:,.0f}/s, "
                f"p50 {run.p50_ms:.1f} ms, p90 {run.p90_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
                f"max {run.max_ms:.1f} ms, socket errors {run.socket_errors}, "
                f"non-2xx {run.non2xx}, load average at start {run.load_before:.1f}"
                + (f"; {run.cpu.per_request_ms(run.requests)}" if run.cpu else "")
                + (f" (first non-2xx: `{run.sample}`)" if run.sample else "")
            )
    return "\n".join(lines)


def markdown(report: Report) -> str:
    f = report.facts
    versions = ", ".join(f"{name} {version}" for name, version in f.packages.items())
    commit = f.commit + (" (with uncommitted changes)" if f.dirty else "")
    parts = [
        "# Benchmark results",
        "",
        'Written by `python -m bench.run` (see README, section "Performance"). Figures drift '
        "between runs on a shared 2-core machine with the load generator on it: read the ratios.",
        "",
        f"- Date: {report.started:%Y-%m-%d %H:%M} UTC",
        f"- Commit: {commit}",
        f"- Machine: {f.cpus} CPUs ({f.cpu_model}), {f.memory_gb:.1f} GiB RAM, Linux {f.kernel}",
        f"- Software: Python {f.python}, PostgreSQL {f.postgres}, SQLite {f.sqlite}, "
        f"{f.wrk}; {versions}",
        f"- Load: {report.options}",
        "",
        "## Results",
        "",
        table(report.rows),
        "",
        *(
            [
                "## Against the build before (BENCH_BEFORE, same rounds, alternating)",
                "",
                *[f"- {line}" for line in report.before],
                "",
            ]
            if report.before
            else []
        ),
        "## Memory (VmRSS of the server processes after their runs)",
        "",
        *[f"- {line}" for line in report.memory],
        "",
        *(
            [
                "## What bounds the 2-process figure here",
                "",
                *[f"- {x}" for x in report.scale_out],
                "",
            ]
            if report.scale_out
            else []
        ),
        *(
            [
                "## Growth: the same scenarios on a deep history and a shallow one",
                "",
                *[f"- {x}" for x in report.growth],
                "",
                *[f"```\n{plan}\n```\n" for plan in report.growth_plans],
            ]
            if report.growth
            else []
        ),
        *(
            [
                "## Web screens: 1,000 live pages of one line",
                "",
                *[f"- {x}" for x in report.screens],
                "",
            ]
            if report.screens
            else []
        ),
        "## Correctness checks",
        "",
        *[f"- {line}" for line in report.checks],
        "",
        "## Every measured run",
        "",
        runs_detail(report.rows),
        "",
        "## Server log problems",
        "",
        *([f"- {line}" for line in report.problems] or ["- none"]),
        "",
    ]
    return "\n".join(parts)


def write(report: Report, path: Path, echo: Callable[[str], None] = print) -> None:
    text = markdown(report)
    path.write_text(text)
    echo(text)
