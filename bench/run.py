"""The benchmark: one command that sets everything up, measures, and writes bench/RESULTS.md.

    python -m bench.run                # everything, PostgreSQL and SQLite (about 7 minutes)
    python -m bench.run --repeat 3     # three measured rounds per scenario instead of two
    python -m bench.run --only booking,queue --no-sqlite
    python -m bench.run --only prune --no-sqlite --prune-rows 20000   # a small prune

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
from dataclasses import replace
from pathlib import Path

from bench import databases, growth, prune, results, screens, servers, wrk
from bench.context import (
    BENCH_DIR,
    OUT,
    REPO,
    Bench,
    Options,
    add_row,
    api_server,
    baseline_server,
    echo,
    record_memory,
)
from bench.machine import collect
from bench.results import Report, Row
from bench.scenarios import (
    BEFORE_SUFFIX,
    QUEUE_CHANGING_LABEL,
    QUEUE_LABEL,
    Contender,
    outbox_rows,
    prepare_queue,
    scaleout_checks,
    scenario_booking,
    scenario_freetext,
    scenario_history,
    scenario_queue,
    scenario_queue_changing,
    scenario_sms,
    workers_supported,
)
from bench.seed import PostgresSeeder, Seeder, SqliteSeeder, TwinSeeder
from bench.targets import against_before, judge, judge_growth, judge_memory, scale_out_bound

SCENARIOS = (
    "booking",
    "queue",
    "history",
    "sms",
    "sms_es",
    "freetext",
    "scaleout",
    "status",
    "fanout",
    "growth",
    "prune",
)
# Scenarios that run on a database of their own, not the one run_database serves.
OWN_DATABASE = {"growth"}
PG_DATABASE = "waitlist_bench"


async def run_database(
    options: Options, report: Report, label: str, urls: list[str], seeders: list[Seeder]
) -> None:
    """Every scenario on one kind of database, the servers compared running side by side.

    All servers are started first and stay up; an idle one costs nothing, and the
    rounds that compare them can then alternate between them (see `measure`). The build
    before, when there is one, serves a database of its own, migrated by itself and
    seeded alike (TwinSeeder): the second of `urls` and `seeders`.
    """
    bench = Bench(
        options=options,
        report=report,
        label=label,
        database_url=urls[0],
        seeder=TwinSeeder(*seeders) if len(seeders) == 2 else seeders[0],
        before_url=urls[1] if len(urls) == 2 else None,
        before_seeder=seeders[1] if len(seeders) == 2 else None,
    )
    seeder = bench.seeder
    only = options.only
    postgres = label == "PostgreSQL"
    provider = await seeder.provider("+19990000001", "Bench provider")
    queue_path = queue_provider = None
    if "queue" in only:
        queue_provider = await seeder.provider("+19990000002", "Bench queue provider")
        queue_path = await prepare_queue(bench, queue_provider)
    scale_out = postgres and "scaleout" in only
    if scale_out and not await workers_supported():
        echo("scale-out: not available (`waitlist serve` has no --workers)")
        add_row(
            bench,
            "scaleout",
            "Booking, 2 processes",
            [],
            processes=2,
            note="not available (`waitlist serve --workers` missing)",
        )
        scale_out = False
    outbox_before = await outbox_rows(bench)

    with contextlib.ExitStack() as stack, contextlib.ExitStack() as scaling:
        api = stack.enter_context(api_server(bench))
        base = stack.enter_context(baseline_server(bench)) if postgres else None
        before_command = servers.before_command()
        before = (
            stack.enter_context(api_server(bench, before=before_command))
            if before_command
            else None
        )
        # The 2-process servers run for the booking scenario only: with every server's
        # pools full at once, PostgreSQL would run out of connections.
        scale = scaling.enter_context(api_server(bench, workers=2)) if scale_out else None
        scale_before = (
            scaling.enter_context(api_server(bench, workers=2, before=before_command))
            if scale and before_command
            else None
        )

        bookers = []
        if base and "booking" in only:
            bookers.append(Contender("baseline", "Booking, raw asyncpg baseline", base))
        if "booking" in only or scale:
            bookers.append(Contender("booking", "Booking, distinct users", api))
        if before and "booking" in only:
            bookers.append(
                Contender("booking-before", "Booking, distinct users" + BEFORE_SUFFIX, before)
            )
        if scale:
            bookers.append(Contender("scaleout", "Booking, 2 processes", scale, processes=2))
        if scale_before:
            bookers.append(
                Contender(
                    "scaleout-before",
                    "Booking, 2 processes" + BEFORE_SUFFIX,
                    scale_before,
                    processes=2,
                )
            )
        if bookers:
            await scenario_booking(bench, provider, bookers)
        if scale:
            await scaleout_checks(bench, scale, outbox_before)
            record_memory(bench, scale, "its runs")
        if scale_before:
            record_memory(bench, scale_before, "its runs", api=False)
        scaling.close()
        if queue_path is not None:
            readers = [Contender("queue", QUEUE_LABEL, api)]
            if before:
                readers.append(Contender("queue-before", QUEUE_LABEL + BEFORE_SUFFIX, before))
            if base:
                readers.insert(
                    0, Contender("queue-baseline", QUEUE_LABEL + ", raw asyncpg baseline", base)
                )
            await scenario_queue(bench, queue_path, readers)
            assert queue_provider is not None
            # The last contender's server books: this build's.
            changing = [Contender("queue-changing", QUEUE_CHANGING_LABEL, api)]
            if before:
                changing.insert(
                    0,
                    Contender(
                        "queue-changing-before", QUEUE_CHANGING_LABEL + BEFORE_SUFFIX, before
                    ),
                )
            if base:
                changing.insert(
                    0,
                    Contender(
                        "queue-changing-baseline",
                        QUEUE_CHANGING_LABEL + ", raw asyncpg baseline",
                        base,
                    ),
                )
            await scenario_queue_changing(bench, queue_path, queue_provider, changing)
        if "history" in only:
            history_provider = await seeder.provider("+19990000003", "Bench history provider")
            await scenario_history(bench, api, history_provider, before)
        if postgres and ("sms" in only or "sms_es" in only):
            await scenario_sms(
                bench, api, before, english="sms" in only, spanish="sms_es" in only
            )
        if postgres and "freetext" in only:
            await scenario_freetext(bench, api, before)
        if postgres and "status" in only:
            await screens.scenario_status_page(bench, api)
        if postgres and "fanout" in only:
            await screens.scenario_fanout(bench, api, provider)
        if postgres and "prune" in only:
            await prune.scenario_prune(bench, api, provider)
        if base:
            record_memory(bench, base, "its runs", api=False)
        if before:
            record_memory(bench, before, "its runs", api=False)
        record_memory(bench, api, "its runs")


async def run_postgres(options: Options, report: Report) -> None:
    names = [PG_DATABASE] + ([PG_DATABASE + "_before"] if servers.before_command() else [])
    urls = []
    seeders: list[Seeder] = []
    try:
        for name, waitlist in zip(names, builds(), strict=False):
            url = await databases.recreate_postgres(options.postgres_url, name)
            databases.migrate(waitlist, url, cwd=OUT, log=OUT / "migrate.log")
            urls.append(url)
            seeders.append(await PostgresSeeder.connect(url))
        await run_database(options, report, "PostgreSQL", urls, seeders)
    finally:
        for seeder in seeders:
            await seeder.close()
        if not options.keep:
            for name in names:
                await databases.drop_postgres(options.postgres_url, name)


async def run_sqlite(options: Options, report: Report) -> None:
    files = ["bench.db"] + (["bench-before.db"] if servers.before_command() else [])
    urls = []
    seeders: list[Seeder] = []
    try:
        for file, waitlist in zip(files, builds(), strict=False):
            url = databases.fresh_sqlite(OUT / file)
            databases.migrate(waitlist, url, cwd=OUT, log=OUT / "migrate.log")
            urls.append(url)
            seeders.append(SqliteSeeder(str(OUT / file)))
        await run_database(options, report, "SQLite", urls, seeders)
    finally:
        for seeder in seeders:
            await seeder.close()


def builds() -> list[list[str]]:
    """The `waitlist` commands of the builds measured: this one, then the one before."""
    before = servers.before_command()
    return [servers.waitlist_command()] + ([before] if before else [])


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
    parser.add_argument(
        "--repeat", type=int, default=2, help="measured rounds per scenario (median reported)"
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="wrk runs each measured run is cut into, the builds taking turns (whole seconds each)",
    )
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
    parser.add_argument(
        "--private-postgres",
        action="store_true",
        help="run the PostgreSQL scenarios on a private cluster with production-like "
        "settings (autovacuum on; bench.growth.GROWTH_SETTINGS) instead of --postgres-url",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite runs")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--growth-scale",
        type=float,
        default=1.0,
        help="the growth scenario's history: 1.0 is 10 million past appointments",
    )
    parser.add_argument(
        "--prune-rows",
        type=int,
        default=1_000_000,
        help="rows past retention the prune scenario seeds before each of its rounds",
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    slices = max(1, args.slices)
    if args.seconds % slices or args.seconds < slices:
        # wrk runs whole seconds: a slice of another length would not be measured as asked.
        parser.error(f"--seconds {args.seconds:g} does not cut into {slices} whole-second slices")
    options = Options(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        repeat=max(1, args.repeat),
        slices=slices,
        max_rps=args.max_rps,
        postgres_url=args.postgres_url,
        sqlite=not args.no_sqlite,
        only=only,
        keep=args.keep,
        output=args.output,
        growth_scale=args.growth_scale,
        prune_rows=max(2, args.prune_rows),
        private_postgres=args.private_postgres,
    )
    return options


async def postgres_version(admin_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(databases.asyncpg_dsn(admin_url))
    try:
        return str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()


async def _on_private_cluster(options: Options, report: Report) -> None:
    """The PostgreSQL runs on a cluster of their own, set as a production server would
    be: the shared server on these machines runs with autovacuum off, so its tables
    bloat round after round and every figure drifts down through a run."""
    from tests.pg_cluster import PrivateCluster

    cluster = PrivateCluster(growth.GROWTH_SETTINGS)
    echo(f"PostgreSQL: a private cluster on port {cluster.port} (production-like settings)")
    cluster.start()
    try:
        report.options += "; PostgreSQL on a private cluster: " + ", ".join(
            f"`{k}={v}`" for k, v in growth.GROWTH_SETTINGS.items()
        )
        await run_postgres(replace(options, postgres_url=cluster.url), report)
    finally:
        cluster.stop()


async def main_async(options: Options) -> Report:
    OUT.mkdir(exist_ok=True)
    # Logs are appended to during a run; start each run with none, so problems are this run's.
    for old in OUT.glob("*.log"):
        old.unlink()
    wrk.ensure_installed()
    servers.waitlist_command()
    facts = collect(REPO, await postgres_version(options.postgres_url))
    report = Report(facts=facts, options=options.describe())
    if options.only - OWN_DATABASE:
        if options.private_postgres:
            await _on_private_cluster(options, report)
        else:
            await run_postgres(options, report)
        if options.sqlite:
            await run_sqlite(options, report)
    if "growth" in options.only:
        await growth.run_growth(options, report)
    report.rows.sort(key=display_order)
    judge(report)
    judge_growth(report, small_suffix=growth.SMALL_SUFFIX)
    judge_memory(report)
    report.scale_out = scale_out_bound(report)
    report.before = against_before(report)
    return report


ROW_ORDER = (
    "baseline",
    "booking",
    "queue-baseline",
    "queue",
    "history",
    "newcomers",
    "sms",
    "sms_es",
    "freetext",
    "scaleout",
    "growth-booking",
    "growth-queue",
    "growth-sms",
    "growth-status",
    "prune-booking-quiet",
    "prune-booking",
    "prune-sms-quiet",
    "prune-sms",
)


def display_order(row: Row) -> tuple[int, int, int]:
    """PostgreSQL first; each reference row just above the row measured against it, and
    the build before's row just below this build's (the small database's just below the
    large one's)."""
    database, _, key = row.key.partition(":")
    after = key.endswith(("-before", growth.SMALL_SUFFIX))
    main = key.removesuffix("-before").removesuffix(growth.SMALL_SUFFIX)
    place = ROW_ORDER.index(main) if main in ROW_ORDER else len(ROW_ORDER)
    return (database != "PostgreSQL", place, int(after))


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    report = asyncio.run(main_async(options))
    results.write(report, options.output, echo=echo)
    echo(f"\nwritten to {options.output}")


if __name__ == "__main__":
    main()
