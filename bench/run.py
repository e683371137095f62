"""The benchmark: one command that sets everything up, measures, and writes bench/RESULTS.md.

    python -m bench.run                # everything, PostgreSQL and SQLite (about 5 minutes)
    python -m bench.run --repeat 3     # each measured run three times, median reported
    python -m bench.run --only booking,queue --no-sqlite

It creates fresh databases (PostgreSQL on 127.0.0.1:5432 as user postgres, and a
SQLite file under bench/out/), builds them with `waitlist migrate`, seeds them with
plain SQL, starts `waitlist serve` (and the raw-asyncpg baseline) as subprocesses,
and drives them with wrk from its own process over loopback. Every wrk run is
bounded: a warm-up of --warmup seconds, then --seconds measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bench import databases, results, servers, twilio_payloads, wrk
from bench.machine import collect
from bench.results import Report, Row
from bench.seed import PostgresSeeder, Provider, Seeder, SqliteSeeder, user_phone

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT = BENCH_DIR / "out"

SCENARIOS = ("booking", "queue", "history", "sms", "scaleout")
PG_DATABASE = "waitlist_bench"
QUEUE_SIZE = 2_000
HISTORY_EVENTS = 5_000
SMS_CUSTOMERS = 1_000
# The history scenario: a few people booking day after day, with and without a past.
HISTORY_USERS = 16
# Epoch days far enough ahead that history bookings never meet another scenario's day.
HISTORY_FIRST_DAY = (date.today() + timedelta(days=3650) - date(1970, 1, 1)).days

TWILIO_ACCOUNT_SID = "AC" + "b" * 32
TWILIO_NUMBER = "+15005550006"


@dataclass
class Options:
    seconds: float
    warmup: float
    connections: int
    threads: int
    repeat: int
    max_rps: int
    postgres_url: str
    sqlite: bool
    only: set[str]
    keep: bool
    output: Path

    def describe(self) -> str:
        return (
            f"wrk {self.threads} threads, {self.connections} connections, "
            f"{self.warmup:g} s warm-up then {self.seconds:g} s measured per run, "
            f"{self.repeat} measured run(s) per scenario (median by throughput)"
        )


@dataclass
class Bench:
    """What one database's runs share: who to talk to, where keys come from."""

    options: Options
    report: Report
    label: str
    database_url: str
    seeder: Seeder
    token: str = field(default_factory=lambda: "bench-" + secrets.token_hex(16))
    twilio_token: str = field(default_factory=lambda: secrets.token_hex(16))
    next_user: int = 1_000_000
    next_day: int = 1

    def take_users(self, count: int) -> int:
        first = self.next_user
        self.next_user += count
        return first

    def take_day(self) -> date:
        """A fresh day for one booking run, so runs never meet in the one-per-day index."""
        self.next_day += 1
        return datetime.now(UTC).date() + timedelta(days=self.next_day)

    def log(self, name: str) -> Path:
        return OUT / f"{self.label.lower()}-{name}.log"


def echo(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- servers


def api_env(bench: Bench, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": bench.database_url,
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
    }


@contextlib.contextmanager
def api_server(bench: Bench, *, workers: int = 1) -> Iterator[servers.Server]:
    port = servers.free_port()
    command = [*servers.waitlist_command(), "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    name = f"api-{workers}w"
    with servers.running(
        f"waitlist serve ({bench.label}, {workers} process(es))",
        command,
        port=port,
        env=api_env(bench, port),
        cwd=OUT,
        log=bench.log(name),
    ) as server:
        yield server
    record_log_problems(bench, server)


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


# ---------------------------------------------------------------- measuring


def wrk_once(
    bench: Bench, server: servers.Server, script: str, args: list[str], seconds: float
) -> wrk.WrkResult:
    o = bench.options
    return wrk.run(
        url=server.url,
        script=script,
        args=args,
        seconds=seconds,
        connections=o.connections,
        threads=o.threads,
        log=bench.log("wrk"),
    )


def say(name: str, n: int, result: wrk.WrkResult) -> None:
    echo(
        f"  {name}: run {n}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, errors {result.errors}"
        + (f" (first: {result.sample})" if result.sample else "")
    )


def measure(
    bench: Bench,
    server: servers.Server,
    script: str,
    args_for: Callable[[str], list[str]],
    *,
    name: str,
) -> list[wrk.WrkResult]:
    """A warm-up, then `repeat` measured runs; `args_for("warmup"|"run")` gives fresh keys."""
    o = bench.options
    echo(f"  {name}: warm-up {o.warmup:g} s")
    wrk_once(bench, server, script, args_for("warmup"), o.warmup)
    runs = []
    for n in range(o.repeat):
        runs.append(wrk_once(bench, server, script, args_for("run"), o.seconds))
        say(name, n + 1, runs[-1])
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


class BookingKeys:
    """Fresh users for each phase of a booking scenario, seeded before the clock starts.

    Each phase (the warm-up, then every measured run) gets `budget` users nobody has
    booked with and a day of its own, so every request is a first booking.
    """

    def __init__(self, bench: Bench, provider: Provider, budget: int) -> None:
        self._bench, self._provider, self._budget = bench, provider, budget
        self._seeded: list[int] = []
        # The day each measured run booked, in order, for the correctness check.
        self.measured_days: list[date] = []

    async def prepare(self, phases: int) -> None:
        for _ in range(phases):
            first = self._bench.take_users(self._budget)
            await self._bench.seeder.users(
                [user_phone(i) for i in range(first, first + self._budget)]
            )
            self._seeded.append(first)
        await self._bench.seeder.analyze()

    def __call__(self, phase: str) -> list[str]:
        first = self._seeded.pop(0)
        day = self._bench.take_day()
        if phase == "run":
            self.measured_days.append(day)
        epoch_day = (day - date(1970, 1, 1)).days
        budget = str(self._budget)
        return [budget, self._bench.token, self._provider.phone, str(first), budget, str(epoch_day)]


async def booking_keys(bench: Bench, provider: Provider) -> BookingKeys:
    o = bench.options
    keys = BookingKeys(bench, provider, int(o.max_rps * max(o.seconds, o.warmup)))
    await keys.prepare(1 + o.repeat)
    return keys


async def active_rows(bench: Bench, provider: Provider, day: date) -> int:
    return int(
        await bench.seeder.scalar(
            f"SELECT count(*) FROM appointments WHERE service_account_id = {provider.id}"
            f" AND day = '{day.isoformat()}' AND status = 'active'"
        )
    )


async def double_bookings(bench: Bench) -> int:
    return int(
        await bench.seeder.scalar(
            "SELECT count(*) FROM (SELECT user_id, day FROM appointments WHERE status = 'active'"
            " GROUP BY user_id, day HAVING count(*) > 1) AS twice"
        )
    )


async def outbox_rows(bench: Bench) -> int:
    return int(await bench.seeder.scalar("SELECT count(*) FROM outbox"))


async def check_bookings(
    bench: Bench, provider: Provider, keys: BookingKeys, runs: list[wrk.WrkResult], what: str
) -> None:
    """Every 2xx is a row; a few more rows are fine (requests cut off when wrk stops)."""
    for day, run in zip(keys.measured_days, runs, strict=True):
        created = await active_rows(bench, provider, day)
        ok = run.requests - run.non2xx
        verdict = "ok" if ok <= created <= ok + bench.options.connections else "MISMATCH"
        bench.report.checks.append(
            f"{bench.label} {what}: {created} appointments on the run's day for {ok} 2xx "
            f"answers — {verdict}"
        )
    twice = await double_bookings(bench)
    bench.report.checks.append(
        f"{bench.label} after {what}: users with two active appointments on one day: {twice}"
        f" — {'ok' if twice == 0 else 'WRONG'}"
    )


# ---------------------------------------------------------------- scenarios


async def scenario_baseline(bench: Bench, provider: Provider) -> None:
    echo("booking, raw asyncpg baseline")
    keys = await booking_keys(bench, provider)
    with baseline_server(bench) as server:
        runs = await asyncio.to_thread(measure, bench, server, "booking.lua", keys, name="baseline")
        record_memory(bench, server, "booking", api=False)
    await check_bookings(bench, provider, keys, runs, "baseline booking")
    add_row(bench, "baseline", "Booking, raw asyncpg baseline", runs)


async def scenario_booking(
    bench: Bench, server: servers.Server, provider: Provider, *, processes: int = 1
) -> list[wrk.WrkResult]:
    name = f"booking ({processes} process{'es' if processes > 1 else ''})"
    echo(name)
    keys = await booking_keys(bench, provider)
    runs = await asyncio.to_thread(measure, bench, server, "booking.lua", keys, name=name)
    await check_bookings(bench, provider, keys, runs, name)
    return runs


async def scenario_queue(bench: Bench, server: servers.Server, provider: Provider) -> None:
    echo("queue read")
    day = bench.take_day()
    await bench.seeder.queue(provider, day, bench.take_users(QUEUE_SIZE), QUEUE_SIZE)
    await bench.seeder.analyze()
    path = (
        f"/appointments/?service_account_phone={quote(provider.phone)}"
        f"&day={day.isoformat()}&limit=100"
    )
    # A check that the read returns a full page before timing it.
    headers = {"Authorization": f"Bearer {bench.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(server.url + path) as answer,
    ):
        body = await answer.json()
        size = len(body.get("data") or [])
    bench.report.checks.append(
        f"{bench.label} queue read: {QUEUE_SIZE} waiting, one page answered {size} appointments"
    )
    runs = await asyncio.to_thread(
        measure, bench, server, "queue.lua", lambda _: [path, bench.token], name="queue"
    )
    add_row(bench, "queue", f"Queue read ({QUEUE_SIZE:,} waiting, limit=100)", runs)


async def scenario_history(bench: Bench, server: servers.Server, provider: Provider) -> None:
    """The same bookings by people with 5,000 past events and by people with none.

    Both groups book exactly the same days, in alternating order run after run, so
    the only difference between them is the past.
    """
    o = bench.options
    budget = int(o.max_rps * max(o.seconds, o.warmup) / 2)
    days_per_run = budget // HISTORY_USERS + 1
    with_past = bench.take_users(HISTORY_USERS)
    for i in range(with_past, with_past + HISTORY_USERS):
        await bench.seeder.history_user(user_phone(i), provider, HISTORY_EVENTS)
    newcomers = bench.take_users(HISTORY_USERS)
    await bench.seeder.users([user_phone(i) for i in range(newcomers, newcomers + HISTORY_USERS)])
    await bench.seeder.analyze()

    def args(first_user: int, run: int) -> list[str]:
        first_day = HISTORY_FIRST_DAY + run * days_per_run
        return [
            str(budget),
            bench.token,
            provider.phone,
            str(first_user),
            str(HISTORY_USERS),
            str(first_day),
        ]

    def drive() -> tuple[list[wrk.WrkResult], list[wrk.WrkResult]]:
        echo(
            f"history: {HISTORY_USERS} users with {HISTORY_EVENTS:,} past events each, "
            f"and {HISTORY_USERS} new users booking the same days"
        )
        for first_user in (with_past, newcomers):
            wrk_once(bench, server, "booking.lua", args(first_user, 0), o.warmup)
        past: list[wrk.WrkResult] = []
        fresh: list[wrk.WrkResult] = []
        for n in range(1, o.repeat + 1):
            order = [(with_past, past, "history"), (newcomers, fresh, "new users")]
            for first_user, runs, name in order if n % 2 else reversed(order):
                runs.append(wrk_once(bench, server, "booking.lua", args(first_user, n), o.seconds))
                say(name, n, runs[-1])
        return past, fresh

    past, fresh = await asyncio.to_thread(drive)
    add_row(bench, "history", f"Booking, users with {HISTORY_EVENTS:,} past events", past)
    add_row(bench, "newcomers", "Booking, new users (same days)", fresh)


async def sms_customers(bench: Bench) -> list[str]:
    provider = await bench.seeder.provider("+19990000900", "Bench SMS provider", code="BENCH")
    first = bench.take_users(SMS_CUSTOMERS)
    phones = [user_phone(i) for i in range(first, first + SMS_CUSTOMERS)]
    ids = await bench.seeder.users(phones)
    today = datetime.now(UTC).date()
    rows = []
    start = datetime.now(UTC) - timedelta(hours=1)
    for n, user_id in enumerate(ids.values()):
        moment = datetime(today.year, today.month, today.day, 23, 0, tzinfo=UTC)
        rows.append(
            (
                user_id,
                provider.id,
                moment,
                today,
                30,
                None,
                "active",
                0.0,
                start + timedelta(seconds=n),
                None,
            )
        )
    await bench.seeder.appointments(rows)
    await bench.seeder.analyze()
    return phones


async def scenario_sms(bench: Bench, server: servers.Server) -> None:
    echo("SMS webhook (STATUS)")
    # Is the route there? An unsigned request gets 403 from it and 404 without it.
    url = server.url + twilio_payloads.SMS_PATH
    async with aiohttp.ClientSession() as http, http.post(url, data={"Body": "x"}) as answer:
        status = answer.status
    if status in (404, 405):
        echo(f"  not available: POST {twilio_payloads.SMS_PATH} answered {status}")
        add_row(
            bench,
            "sms",
            "SMS webhook, STATUS from 1,000 customers",
            [],
            note=f"not available (route answered {status})",
        )
        return
    customers = await sms_customers(bench)
    o = bench.options
    files: dict[str, list[Path]] = {"warmup": [], "run": []}
    next_sid = 1
    for phase, seconds, count in (("warmup", o.warmup, 1), ("run", o.seconds, o.repeat)):
        for n in range(count):
            path = OUT / f"sms-{bench.label.lower()}-{phase}-{n}.txt"
            lines = int(o.max_rps * seconds)
            twilio_payloads.write(
                path,
                count=lines,
                first_sid=next_sid,
                customers=customers,
                to_phone=TWILIO_NUMBER,
                body="STATUS",
                auth_token=bench.twilio_token,
                account_sid=TWILIO_ACCOUNT_SID,
                public_base_url=server.url,
            )
            next_sid += lines
            files[phase].append(path)

    def args_for(phase: str) -> list[str]:
        return [str(files[phase].pop(0)), twilio_payloads.SMS_PATH]

    runs = await asyncio.to_thread(measure, bench, server, "sms.lua", args_for, name="sms")
    add_row(bench, "sms", "SMS webhook, STATUS from 1,000 customers", runs)


async def race_check(bench: Bench, server: servers.Server) -> None:
    """12 simultaneous bookings by one user for one day at 12 providers: exactly one 201."""
    providers = [await bench.seeder.provider(f"+1999100{n:04d}", f"Race {n}") for n in range(12)]
    phone = user_phone(bench.take_users(1))
    await bench.seeder.users([phone])
    day = bench.take_day()
    headers = {"Authorization": f"Bearer {bench.token}"}
    async with aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(limit=12, force_close=True)
    ) as http:

        async def attempt(provider: Provider) -> int:
            body = {
                "user_phone": phone,
                "service_account_phone": provider.phone,
                "appointment_date": day.isoformat(),
            }
            async with http.post(server.url + "/appointments/", json=body) as answer:
                return answer.status

        statuses = await asyncio.gather(*(attempt(p) for p in providers))
    created, refused = statuses.count(201), statuses.count(400)
    verdict = "ok" if (created, refused) == (1, 11) else "WRONG"
    bench.report.checks.append(
        f"{bench.label} one-per-day race across processes: 12 simultaneous bookings by one "
        f"user gave {created}×201 and {refused}×400 — {verdict}"
    )


async def scenario_scaleout(bench: Bench, provider: Provider, workers: int) -> None:
    help_text = await help_of_serve()
    if "--workers" not in help_text:
        echo("scale-out: not available (`waitlist serve` has no --workers)")
        add_row(
            bench,
            "scaleout",
            "Booking, 2 processes",
            [],
            processes=workers,
            note="not available (`waitlist serve --workers` missing)",
        )
        return
    outbox_before = await outbox_rows(bench)
    with api_server(bench, workers=workers) as server:
        runs = await scenario_booking(bench, server, provider, processes=workers)
        await race_check(bench, server)
        record_memory(bench, server, "scale-out booking")
    written = await outbox_rows(bench) - outbox_before
    bench.report.checks.append(
        f"{bench.label} outbox rows written during scale-out booking: {written}"
    )
    add_row(bench, "scaleout", f"Booking, {workers} processes", runs, processes=workers)


async def help_of_serve() -> str:
    process = await asyncio.create_subprocess_exec(
        *servers.waitlist_command(),
        "serve",
        "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return out.decode(errors="replace")


# ---------------------------------------------------------------- databases


async def run_database(
    options: Options, report: Report, label: str, url: str, seeder: Seeder
) -> None:
    bench = Bench(options=options, report=report, label=label, database_url=url, seeder=seeder)
    only = options.only
    provider = await seeder.provider("+19990000001", "Bench provider")
    postgres = label == "PostgreSQL"
    if postgres and "booking" in only:
        await scenario_baseline(bench, provider)
    with api_server(bench) as server:
        if "booking" in only:
            runs = await scenario_booking(bench, server, provider)
            add_row(bench, "booking", "Booking, distinct users", runs)
        if "queue" in only:
            queue_provider = await seeder.provider("+19990000002", "Bench queue provider")
            await scenario_queue(bench, server, queue_provider)
        if "history" in only:
            history_provider = await seeder.provider("+19990000003", "Bench history provider")
            await scenario_history(bench, server, history_provider)
        if postgres and "sms" in only:
            await scenario_sms(bench, server)
        record_memory(bench, server, "its runs")
    if postgres and "scaleout" in only:
        await scenario_scaleout(bench, provider, workers=2)


async def run_postgres(options: Options, report: Report) -> None:
    url = await databases.recreate_postgres(options.postgres_url, PG_DATABASE)
    databases.migrate(servers.waitlist_command(), url, cwd=OUT, log=OUT / "migrate.log")
    seeder = await PostgresSeeder.connect(url)
    try:
        await run_database(options, report, "PostgreSQL", url, seeder)
    finally:
        await seeder.close()
        if not options.keep:
            await databases.drop_postgres(options.postgres_url, PG_DATABASE)


async def run_sqlite(options: Options, report: Report) -> None:
    path = OUT / "bench.db"
    url = databases.fresh_sqlite(path)
    databases.migrate(servers.waitlist_command(), url, cwd=OUT, log=OUT / "migrate.log")
    seeder = SqliteSeeder(str(path))
    try:
        await run_database(options, report, "SQLite", url, seeder)
    finally:
        await seeder.close()


# ---------------------------------------------------------------- targets


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


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--repeat", type=int, default=1, help="measured runs per scenario")
    parser.add_argument(
        "--max-rps",
        type=int,
        default=6000,
        help="fresh keys (users, days, SMS) prepared per second of a run",
    )
    parser.add_argument(
        "--postgres-url",
        default=databases.DEFAULT_POSTGRES,
        help="an admin URL of the PostgreSQL server to create databases on",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite runs")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    options = Options(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        repeat=max(1, args.repeat),
        max_rps=args.max_rps,
        postgres_url=args.postgres_url,
        sqlite=not args.no_sqlite,
        only=only,
        keep=args.keep,
        output=args.output,
    )
    return options


async def postgres_version(admin_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(databases.asyncpg_dsn(admin_url))
    try:
        return str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()


async def main_async(options: Options) -> Report:
    OUT.mkdir(exist_ok=True)
    wrk.ensure_installed()
    servers.waitlist_command()
    facts = collect(REPO, await postgres_version(options.postgres_url))
    report = Report(facts=facts, options=options.describe())
    await run_postgres(options, report)
    if options.sqlite:
        await run_sqlite(options, report)
    judge(report)
    judge_memory(report)
    return report


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    report = asyncio.run(main_async(options))
    results.write(report, options.output, echo=echo)
    echo(f"\nwritten to {options.output}")


if __name__ == "__main__":
    main()
