"""What every scenario shares: options, the per-database bench, servers and wrk runs."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import cpu, results, servers, wrk
from bench.results import Report, Row
from bench.seed import Seeder

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT = BENCH_DIR / "out"

TWILIO_ACCOUNT_SID = "AC" + "b" * 32
TWILIO_NUMBER = "+15005550006"
# The title of every server of the build before: what tells its database from ours.
BEFORE_SERVER = "build before"


@dataclass
@dataclass
class Options:
    seconds: float
    warmup: float
    connections: int
    threads: int
    repeat: int
    # Each measured run is cut into this many wrk runs of seconds / slices, and the
    # subjects compared take turns slice by slice (see `measure`).
    slices: int
    max_rps: int
    postgres_url: str
    sqlite: bool
    only: set[str]
    keep: bool
    output: Path
    # The growth scenario's history, as a share of 10 million past appointments.
    growth_scale: float = 1.0
    # Rows past retention the prune scenario seeds before each of its rounds.
    prune_rows: int = 1_000_000
    # The PostgreSQL scenarios on a private cluster with production-like settings.
    private_postgres: bool = False

    @property
    def slice_seconds(self) -> float:
        return self.seconds / self.slices

    @property
    def wrk_runs(self) -> int:
        """Measured wrk runs per subject: what fresh keys are prepared for."""
        return self.repeat * self.slices

    def describe(self) -> str:
        return (
            f"wrk {self.threads} threads, {self.connections} connections, "
            f"{self.warmup:g} s warm-up then {self.seconds:g} s measured per run, "
            f"{self.repeat} measured run(s) per scenario (median by throughput); "
            f"each run is {self.slices} slice(s) of {self.slice_seconds:g} s, the builds "
            "compared taking turns slice by slice"
        )


@dataclass
class Bench:
    """What one database's runs share: who to talk to, where keys come from."""

    options: Options
    report: Report
    label: str
    database_url: str
    # With a build before (BENCH_BEFORE): TwinSeeder, seeding its database too.
    seeder: Seeder
    # The build before's own database, migrated by that build, and its seeder for checks.
    before_url: str | None = None
    before_seeder: Seeder | None = None
    token: str = field(default_factory=lambda: "bench-" + secrets.token_hex(16))
    twilio_token: str = field(default_factory=lambda: secrets.token_hex(16))
    next_user: int = 1_000_000
    next_day: int = 1
    # MessageSids of texts sent by hand count down from the top of the 32-hex-digit
    # range; wrk's count up from 1.
    hand_sid: int = 16**32

    def take_users(self, count: int) -> int:
        first = self.next_user
        self.next_user += count
        return first

    def take_day(self) -> date:
        """A fresh day for one booking run, so runs never meet in the one-per-day index."""
        self.next_day += 1
        return datetime.now(UTC).date() + timedelta(days=self.next_day)

    def serves_before(self, server: servers.Server) -> bool:
        return server.name.startswith(BEFORE_SERVER)

    def url_of(self, server: servers.Server) -> str:
        """The database `server` serves."""
        if self.serves_before(server):
            assert self.before_url is not None
            return self.before_url
        return self.database_url

    def seeder_of(self, server: servers.Server) -> Seeder:
        """A seeder that reads the database `server` serves (for checks)."""
        if self.serves_before(server):
            assert self.before_seeder is not None
            return self.before_seeder
        return self.seeder

    def postgres_database(self, server: servers.Server) -> str | None:
        """The name in PostgreSQL's process titles of the database `server` serves, or
        None on SQLite."""
        url = self.url_of(server)
        if url.startswith("sqlite"):
            return None
        return url.rsplit("/", 1)[-1].split("?")[0]

    def log(self, name: str) -> Path:
        return OUT / f"{self.label.lower()}-{name}.log"


def echo(text: str) -> None:
    print(text, flush=True)


def api_env(bench: Bench, port: int, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "ADMIN_API_TOKEN": bench.token,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": bench.twilio_token,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        # Outbound SMS must never leave the machine: point the API at a closed local port.
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        # A thousand customers texting once a second each is the scenario, not abuse.
        "SMS_INBOUND_PER_MINUTE": "1000000",
        # The servers never prune on their own: the seeded history stays as seeded, and
        # the prune scenario runs `waitlist prune` when it measures one.
        "PRUNE_INTERVAL": "0",
    }


@contextlib.contextmanager
def api_server(
    bench: Bench, *, workers: int = 1, before: list[str] | None = None
) -> Iterator[servers.Server]:
    """`waitlist serve`, or with `before` the build before's, on its own database
    (`bench.before_url`, which that build migrated)."""
    port = servers.free_port()
    if before is None:
        command = [*servers.waitlist_command(), "serve", "--port", str(port)]
        name, title = f"api-{workers}w", f"waitlist serve ({bench.label}, {workers} process(es))"
        url = bench.database_url
    else:
        command = [*before, "serve", "--no-migrate", "--port", str(port)]
        name = f"api-before-{workers}w"
        title = f"{BEFORE_SERVER} ({bench.label}, {workers} process(es))"
        assert bench.before_url is not None, "the build before needs its own database"
        url = bench.before_url
    if workers > 1:
        command += ["--workers", str(workers)]
        url = shared_pool(url, workers)
    with servers.running(
        title,
        command,
        port=port,
        env=api_env(bench, port, url),
        cwd=OUT,
        log=bench.log(name),
    ) as server:
        yield server
    record_log_problems(bench, server)


# Connections per pool of one `waitlist serve` process (core.db.POOL_MAXSIZE).
POOL_MAXSIZE = 16


def shared_pool(database_url: str, workers: int) -> str:
    """`database_url` with each of `workers` processes given its share of one process's
    pool: a many-process server holds no more connections than a 1-process one, so the
    servers of two builds, each up with every pool full, stay within PostgreSQL's
    max_connections."""
    if database_url.startswith("sqlite"):
        return database_url
    joiner = "&" if "?" in database_url else "?"
    return f"{database_url}{joiner}maxsize={max(POOL_MAXSIZE // workers, 1)}"


@contextlib.contextmanager
def baseline_server(bench: Bench) -> Iterator[servers.Server]:
    port = servers.free_port()
    command = [
        sys.executable,
        "-m",
        "bench.baseline_server",
        "--port",
        str(port),
        "--database-url",
        bench.database_url,
    ]
    with servers.running(
        "baseline",
        command,
        port=port,
        env={"PYTHONPATH": str(REPO)},
        cwd=REPO,
        log=bench.log("baseline"),
    ) as server:
        yield server
    record_log_problems(bench, server)


def record_log_problems(bench: Bench, server: servers.Server) -> None:
    problems = server.log_problems()
    if problems:
        bench.report.problems.append(
            f"{server.name}: {len(problems)} line(s) in {server.log.relative_to(REPO)}, "
            f"first: `{problems[0][:200]}`"
        )


def record_memory(bench: Bench, server: servers.Server, after: str, *, api: bool = True) -> None:
    rss = server.rss_mb()
    total = sum(rss.values())
    serving = max(rss[pid] for pid in server.worker_pids() if pid in rss)
    detail = ", ".join(f"pid {pid}: {mb:.0f} MB" for pid, mb in rss.items())
    bench.report.memory.append(
        f"{server.name} after {after}: largest serving process {serving:.0f} MB "
        f"(all processes {total:.0f} MB: {detail})"
    )
    if api:
        bench.report.server_rss_mb.append(serving)


def wrk_once(
    bench: Bench, server: servers.Server, script: str, args: list[str], seconds: float
) -> wrk.WrkResult:
    o = bench.options
    meter = cpu.CpuMeter(server.pids(), bench.postgres_database(server))
    result = wrk.run(
        url=server.url,
        script=script,
        args=args,
        seconds=seconds,
        connections=o.connections,
        threads=o.threads,
        log=bench.log("wrk"),
    )
    return dataclasses.replace(result, cpu=meter.stop())


def say(name: str, n: int, result: wrk.WrkResult) -> None:
    echo(
        f"  {name}: run {n}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, errors {result.errors}"
        + (f" (first: {result.sample})" if result.sample else "")
        + (" — fresh keys ran out: run again with a higher --max-rps" if result.exhausted else "")
    )


@dataclass(frozen=True)
class Subject:
    """One server under one kind of load: `args_for("warmup"|"run")` gives fresh keys."""

    name: str
    server: servers.Server
    args_for: Callable[[str], list[str]]


def measure(bench: Bench, script: str, subjects: list[Subject]) -> list[list[wrk.WrkResult]]:
    """Warm every subject up, then `repeat` rounds that run each subject once.

    Other engineers' work comes and goes on this machine, in bursts shorter than a
    run. So a round is cut into `slices` short wrk runs per subject, the subjects
    taking turns slice by slice in an order reversed every other slice (A B B A ...):
    a burst then lands on all of them alike, and their ratios hold even when absolute
    figures move. A subject's slices of one round add up to its run of that round.
    """
    o = bench.options
    for subject in subjects:
        echo(f"  {subject.name}: warm-up {o.warmup:g} s")
        wrk_once(bench, subject.server, script, subject.args_for("warmup"), o.warmup)
    runs: list[list[wrk.WrkResult]] = [[] for _ in subjects]
    order = list(range(len(subjects)))
    turn = 0
    for n in range(1, o.repeat + 1):
        slices: list[list[wrk.WrkResult]] = [[] for _ in subjects]
        for _ in range(o.slices):
            turn += 1
            for index in order if turn % 2 else reversed(order):
                subject = subjects[index]
                args = subject.args_for("run")
                slices[index].append(wrk_once(bench, subject.server, script, args, o.slice_seconds))
        for index, subject in enumerate(subjects):
            result = wrk.merged(slices[index])
            runs[index].append(result)
            say(subject.name, n, result)
    return runs


def add_row(
    bench: Bench,
    key: str,
    scenario: str,
    runs: list[wrk.WrkResult],
    *,
    processes: int = 1,
    note: str = "",
) -> Row:
    row = Row(
        key=f"{bench.label}:{key}",
        scenario=scenario,
        database=bench.label,
        processes=processes,
        result=results.median_run(runs) if runs else None,
        runs=runs,
        note=note,
    )
    bench.report.rows.append(row)
    return row
