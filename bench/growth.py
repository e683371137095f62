"""Issue 16's growth scenario: how cost grows with data.

A private PostgreSQL cluster with production-like settings (GROWTH_SETTINGS; the
shared server is left as it is) holds two databases: one with a platform's history
(bench.growth_seed, `--growth-scale` 1.0 is 10 million past appointments) and one of
the same shape at 1/1000 of it. A server on each runs booking, the queue read, SMS
STATUS and the status page in the same alternating rounds (bench.context.measure),
so the ratio of each pair is what the history costs. Then one request of each kind
runs with auto_explain on, and the plans of every statement they ran are reported.

The small database's server is started as the bench starts a build before's (its own
database, its own seeder for checks); its rows carry keys ending in SMALL.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import asyncpg

from bench import databases, growth_seed, screens, servers
from bench.context import (
    OUT,
    Bench,
    Options,
    Subject,
    add_row,
    api_server,
    echo,
    measure,
)
from bench.databases import asyncpg_dsn
from bench.results import Report
from bench.scenarios import (
    QUEUE_LABEL,
    SMS_LABEL,
    Contender,
    prepare_queue,
    run_sms,
    scenario_booking,
    scenario_queue,
    sms_check,
    sms_customers,
)
from bench.seed import PostgresSeeder, Provider, TwinSeeder, user_phone
from tests.pg_cluster import PrivateCluster

# What a production server would run with on a machine of this size, not the shared
# server's (autovacuum off, 128 MB of shared buffers).
GROWTH_SETTINGS = {
    "max_connections": "100",
    "shared_buffers": "2GB",
    "effective_cache_size": "8GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "4GB",
    "checkpoint_completion_target": "0.9",
    "random_page_cost": "1.1",
    "wal_compression": "on",
    "autovacuum": "on",
    "autovacuum_naptime": "10s",
    "track_io_timing": "on",
    # Loaded, and off (its default) until the plans are taken (see `_plans`); a value
    # given here would be a command-line setting, which ALTER SYSTEM cannot override.
    "session_preload_libraries": "auto_explain",
}
# Turned on for the plan-taking requests only.
EXPLAIN_ON = {
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_nested_statements": "on",
    # Which database each entry is from: only the large one's are kept.
    "log_line_prefix": "%m [%p] db=%d ",
}
LARGE, SMALL = "growth", "growth_small"
SMALL_SUFFIX = "-small"
LABEL = "Growth"
SCENARIOS = {
    "booking": "Booking, distinct users",
    "queue": QUEUE_LABEL,
    "sms": SMS_LABEL,
    "status": screens.STATUS_LABEL,
}
THROUGHPUT_TARGET, P50_TARGET = 0.8, 1.25


HISTORIES = ("large", "small")


def _labels(name: str) -> tuple[str, str]:
    large, small = HISTORIES
    return f"{SCENARIOS[name]} ({large} history)", f"{SCENARIOS[name]} ({small} history)"


async def run_growth(options: Options, report: Report) -> None:
    scale = options.growth_scale
    cluster = PrivateCluster(GROWTH_SETTINGS)
    echo(f"growth: starting a private PostgreSQL cluster on port {cluster.port}")
    cluster.start()
    seeders: list[PostgresSeeder] = []
    try:
        urls = []
        for name in (LARGE, SMALL):
            url = await databases.recreate_postgres(cluster.url, name)
            databases.migrate(
                servers.waitlist_command(), url, cwd=OUT, log=OUT / "migrate.log"
            )
            urls.append(url)
        large_url, small_url = urls
        notes = report.growth
        notes.append(
            "Private cluster settings: "
            + ", ".join(f"`{k}={v}`" for k, v in GROWTH_SETTINGS.items())
            + " (durability on: fsync and synchronous_commit as PostgreSQL ships them)"
        )
        for url, at in ((large_url, scale), (small_url, scale / 1000)):
            shape = growth_seed.Shape.at(at)
            echo(f"growth: seeding {shape.describe()}")
            seeded = await growth_seed.seed(url, shape)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in seeded.steps.items())
            notes.append(
                f"Seeded `{url.rsplit('/', 1)[-1]}` (growth scale {at:g}): "
                f"{shape.describe()} in {seeded.seconds:.1f} s ({steps})"
            )
            echo(f"  {notes[-1]}")
        await growth_seed.align_sequences(urls)
        await _sizes(report, large_url, growth_seed.Shape.at(scale))
        seeders = [await PostgresSeeder.connect(url) for url in urls]
        bench = Bench(
            options=options,
            report=report,
            label=LABEL,
            database_url=large_url,
            seeder=TwinSeeder(*seeders),
            before_url=small_url,
            before_seeder=seeders[1],
        )
        await _scenarios(bench, cluster, urls)
    finally:
        for seeder in seeders:
            await seeder.close()
        cluster.stop()


async def _sizes(report: Report, url: str, shape: growth_seed.Shape) -> None:
    found = await growth_seed.sizes(url)
    millions = shape.appointments / 1_000_000
    mb = {name: size / 2**20 for name, size in found.items()}
    report.growth.append(
        f"Large database after seeding: {mb['database']:,.0f} MB in all, "
        + ", ".join(f"{name} {mb[name]:,.0f} MB" for name in growth_seed.TABLES)
        + f" (tables with their indexes); per million appointments: "
        f"{mb['database'] / millions:,.0f} MB of database, "
        f"{mb['appointments'] / millions:,.0f} MB of appointments"
    )


async def _scenarios(bench: Bench, cluster: PrivateCluster, urls: list[str]) -> None:
    with (
        api_server(bench) as large,
        api_server(bench, before=servers.waitlist_command()) as small,
    ):
        pair = (large, small)

        def contenders(name: str) -> list[Contender]:
            return [
                Contender(f"growth-{name}{suffix}", label, server)
                for suffix, label, server in zip(("", SMALL_SUFFIX), _labels(name), pair, strict=True)
            ]

        provider = await bench.seeder.provider("+19990000001", "Bench provider")
        echo("growth: booking")
        await scenario_booking(bench, provider, contenders("booking"))
        queue_provider = await bench.seeder.provider("+19990000002", "Bench queue provider")
        queue_path = await prepare_queue(bench, queue_provider)
        echo("growth: queue read")
        await scenario_queue(bench, queue_path, contenders("queue"))
        echo("growth: SMS STATUS")
        customers = await sms_customers(bench)
        for server in pair:
            await sms_check(bench, server, customers[0])
        targets = [(c.key, c.server) for c in contenders("sms")]
        runs = await run_sms(bench, targets, customers, bodies=lambda count, _: ["STATUS"])
        for contender, result in zip(contenders("sms"), runs, strict=True):
            add_row(bench, contender.key, contender.label, result)
        echo("growth: status page")
        first, count = await _status_links(bench, urls)
        for server, history in zip(pair, HISTORIES, strict=True):
            await _status_check(bench, server, first, history)
        subjects = [
            Subject(c.label, c.server, lambda _: [str(first), str(count)])
            for c in contenders("status")
        ]
        runs = await asyncio.to_thread(measure, bench, "status.lua", subjects)
        for contender, result in zip(contenders("status"), runs, strict=True):
            add_row(bench, contender.key, contender.label, result)
        for server, history in zip(pair, HISTORIES, strict=True):
            rss = max(server.rss_mb().values())
            bench.report.memory.append(
                f"waitlist serve on the {history} history after its growth runs: {rss:.0f} MB"
            )
        await _plans(bench, cluster, large, provider, queue_path, customers[0], first)


async def _status_links(bench: Bench, urls: list[str]) -> tuple[int, int]:
    """A line 2,000 deep with a status link each, in both databases: screens.seed_line
    writes the links to the first; the same tokens go to the second, each on the same
    person's appointment there (ids differ: the booking runs wrote different counts)."""
    provider = await bench.seeder.provider("+19990000061", "Bench status provider", "STAT")
    first, count = await screens.seed_line(bench, provider, today=False)
    source = await asyncpg.connect(asyncpg_dsn(urls[0]))
    target = await asyncpg.connect(asyncpg_dsn(urls[1]))
    try:
        rows = await source.fetch(
            "SELECT l.token_hash, u.phone, l.day, l.created_at FROM status_links l"
            " JOIN appointments a ON a.id = l.appointment_id JOIN users u ON u.id = a.user_id"
            " WHERE a.service_account_id = $1",
            provider.id,
        )
        await target.executemany(
            "INSERT INTO status_links (token_hash, appointment_id, day, created_at)"
            " SELECT $1, a.id, $3, $4 FROM appointments a JOIN users u ON u.id = a.user_id"
            " WHERE u.phone = $2 AND a.day = $3 AND a.service_account_id = $5",
            [(*row, provider.id) for row in rows],
        )
        await target.execute("ANALYZE status_links")
    finally:
        await source.close()
        await target.close()
    return first, count


async def _status_check(bench: Bench, server: servers.Server, first: int, history: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(
        server.url + "/s/" + screens.token(first)
    ) as page:
        text = await page.text()
    good = page.status == 200 and "Bench status provider" in text
    bench.report.checks.append(
        f"{LABEL} {history} history: status page of the first in line: {page.status}"
        f" — {'ok' if good else 'WRONG'}"
    )


async def _set(cluster: PrivateCluster, values: dict[str, str] | None) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(cluster.url))
    try:
        for name in EXPLAIN_ON:
            if values is None:
                await conn.execute(f"ALTER SYSTEM RESET {name}")
            else:
                await conn.execute(f"ALTER SYSTEM SET {name} = '{values[name]}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    # The reload reaches each session at its next statement; give the signal a moment.
    await asyncio.sleep(1)


async def _plans(
    bench: Bench,
    cluster: PrivateCluster,
    large: servers.Server,
    provider: Provider,
    queue_path: str,
    customer: str,
    first_status: int,
) -> None:
    """One request of each scenario against the large database with auto_explain on:
    the plan of every statement they ran, with its buffers, from the cluster's log."""
    phone = user_phone(bench.take_users(1))
    await bench.seeder.users([phone])
    offset = cluster.logfile.stat().st_size
    await _set(cluster, EXPLAIN_ON)
    headers = {"Authorization": f"Bearer {bench.token}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            day = bench.take_day().isoformat()
            body = {"user_phone": phone, "service_account_phone": provider.phone, "appointment_date": day}
            async with http.post(large.url + "/appointments/", json=body) as answer:
                booked = answer.status
            # A different limit than the scenario's: a page the cache does not hold.
            async with http.get(large.url + queue_path.replace("limit=100", "limit=99")) as answer:
                queued = answer.status
            async with http.get(large.url + "/s/" + screens.token(first_status)) as answer:
                paged = answer.status
        await sms_check(bench, large, customer)
    finally:
        await _set(cluster, None)
    bench.report.checks.append(
        f"{LABEL} requests explained: booking {booked}, queue read {queued}, status page {paged}"
    )
    plans = _parse_plans(cluster.logfile, offset, database=LARGE)
    scanned = {table for plan in plans.values() for table in _TABLE_SCAN.findall(plan)}
    rows = await _row_counts(bench.database_url, scanned)
    big = sorted(t for t in scanned if rows[t] >= SMALL_TABLE)
    small = sorted(f"{t} ({rows[t]:,.0f} rows)" for t in scanned if rows[t] < SMALL_TABLE)
    bench.report.growth.append(
        f"Plans of the {len(plans)} distinct statements that one booking, one queue read, "
        "one SMS STATUS and one status page ran on the large database (with the background "
        "workers' polls meanwhile), below: "
        + (f"**sequential scans of {', '.join(big)}**" if big else "no plan scans a large table")
        + (
            f"; sequential scans only of tables under {SMALL_TABLE:,} rows, where the planner "
            f"prefers them: {', '.join(small)}"
            if small
            else ""
        )
    )
    bench.report.growth_plans.extend(f"{text}\n\n{plan}" for text, plan in plans.items())


# A sequential scan of one of our tables (the catalog's are PostgreSQL's business).
_TABLE_SCAN = re.compile(r"Seq Scan on ((?!pg_)\w+)")
# Below this many rows a sequential scan is the planner's right choice, not a missing index.
SMALL_TABLE = 10_000


async def _row_counts(url: str, tables: set[str]) -> dict[str, float]:
    """The planner's row estimate of each table (ANALYZE and autovacuum keep it)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {
            t: float(await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = $1", t))
            for t in tables
        }
    finally:
        await conn.close()
# asyncpg's own statements: type introspection and its JIT switch.
_DRIVER = ("pg_catalog", "set_config(", "current_setting(")
_COST = re.compile(r"\(cost=[^)]*\) ")


def _parse_plans(log: Path, offset: int, *, database: str) -> dict[str, str]:
    """auto_explain's entries from `database` in the server log after `offset`: each
    distinct statement's first plan (without the planner's cost estimates), by its text."""
    entry = re.compile(rf"db={re.escape(database)} LOG:  duration: [0-9.]+ ms  plan:$")
    with log.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode(errors="replace").splitlines()
    plans: dict[str, str] = {}
    n = 0
    while n < len(lines):
        if not entry.search(lines[n]):
            n += 1
            continue
        n += 1
        body: list[str] = []
        while n < len(lines) and lines[n].startswith(("\t", " ")):
            body.append(lines[n].strip("\t"))
            n += 1
        # The query's text runs until the plan's first node.
        start = next((i for i, line in enumerate(body) if "(actual" in line or "(never" in line), len(body))
        text = " ".join(" ".join(body[:start]).removeprefix("Query Text:").split())
        if any(mark in text for mark in _DRIVER):
            continue
        plans.setdefault(text, "\n".join(_COST.sub("", line) for line in body[start:]))
    return plans
