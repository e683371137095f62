"""Where a request's time goes: SQL statements per request, and a py-spy profile under load.

    python -m bench.profile                      # booking, queue and SMS (English, Spanish), on PostgreSQL
    python -m bench.profile --scenarios booking --seconds 15

1. Statements per request: the profile database gets `log_statement = all` (that
   database only), a few requests are sent one at a time, and the statements the
   server's sessions logged for it are counted in PostgreSQL's log.
2. Profile: the server is restarted without statement logging, wrk drives it at 32
   connections, and `py-spy record` samples the server (idle time included) for
   --seconds. The raw stacks go to bench/out/profile-<scenario>.txt (flamegraph
   input) and a summary is printed: time by layer and the hottest functions.

Needs py-spy (pip install py-spy, in the project's `bench` extra) and root or
ptrace rights over the server process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
from twilio.request_validator import RequestValidator

from bench import databases, servers, twilio_payloads, wrk
from bench.context import TWILIO_ACCOUNT_SID, TWILIO_NUMBER
from bench.scenarios import SMS_ES_PROVIDER_PHONE, SMS_HISTORY, SMS_PROVIDER_PHONE
from bench.seed import PostgresSeeder, user_phone

BENCH_DIR = Path(__file__).resolve().parent
OUT = BENCH_DIR / "out"
DATABASE = "waitlist_bench_profile"
PG_LOG = Path("/var/log/postgresql")
TOKEN = "bench-profile-token-0123456789"
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
SAMPLED_REQUESTS = 20

# Layers a stack's innermost frame belongs to, first match wins.
LAYERS = (
    ("idle: waiting for the network", re.compile(r"\(selectors\.py:")),
    ("socket writes (send syscalls)", re.compile(r"_SelectorSocketTransport\.write ")),
    ("tortoise", re.compile(r"\(tortoise/")),
    ("pypika", re.compile(r"\(pypika")),
    ("asyncpg", re.compile(r"\(asyncpg/")),
    ("pydantic", re.compile(r"\(pydantic")),
    ("json / orjson", re.compile(r"json")),
    ("logging", re.compile(r"\(logging/")),
    ("aiohttp", re.compile(r"\((aiohttp|multidict|yarl)/")),
    ("asyncio", re.compile(r"\(asyncio/")),
    ("project: core", re.compile(r"\(core/")),
    ("project: webhooks", re.compile(r"\(webhooks/")),
    ("project: bot", re.compile(r"\(bot/")),
    ("twilio", re.compile(r"\(twilio/")),
)


@dataclass
class Profile:
    samples: int = 0
    by_layer: Counter[str] = field(default_factory=Counter)
    self_time: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)


def layer_of(frame: str) -> str:
    for name, pattern in LAYERS:
        if pattern.search(frame):
            return name
    return "other"


def function_of(frame: str) -> str:
    """`name (file.py:123)` -> `name (file.py)`: lines of one function counted together."""
    return re.sub(r":\d+\)$", ")", frame)


def summarise(raw: Path) -> Profile:
    """Read py-spy's raw (collapsed) output: `frame;frame;...;frame count` per line."""
    profile = Profile()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        innermost = frames[-1]
        profile.samples += count
        profile.by_layer[layer_of(innermost)] += count
        profile.self_time[function_of(innermost)] += count
        for function in {function_of(frame) for frame in frames}:
            profile.inclusive[function] += count
    return profile


def report(name: str, profile: Profile, top: int = 20) -> str:
    total = profile.samples or 1
    lines = [f"## {name}: {profile.samples} samples", "", "Self time by layer:"]
    for layer, count in profile.by_layer.most_common():
        lines.append(f"  {100 * count / total:5.1f}%  {layer}")
    lines += ["", f"Hottest functions (self time, top {top}):"]
    for frame, count in profile.self_time.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    lines += ["", "Inclusive time of the request path (project and ORM frames):"]
    project = [
        (frame, count)
        for frame, count in profile.inclusive.most_common()
        if re.search(r"\((core|webhooks|bot)/|\(tortoise/(models|queryset)", frame)
    ]
    for frame, count in project[:top]:
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


# ---------------------------------------------------------------- statements


def pg_log() -> Path:
    logs = sorted(PG_LOG.glob("postgresql-*-main.log"))
    if not logs:
        raise RuntimeError(f"no PostgreSQL log under {PG_LOG}")
    return logs[-1]


STATEMENT = re.compile(r"@(?P<db>\S+) LOG:  (?:statement|execute [^:]*): (?P<sql>.*)")


def statements_since(log: Path, offset: int) -> list[str]:
    with log.open(errors="replace") as handle:
        handle.seek(offset)
        text = handle.read()
    # A statement written over several lines continues on lines that start with a tab.
    entries: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t") and entries:
            entries[-1] += " " + line.strip()
        else:
            entries.append(line)
    found = []
    for entry in entries:
        match = STATEMENT.search(entry)
        if match and match.group("db") == DATABASE:
            found.append(" ".join(match.group("sql").split()))
    return found


POOL_RESET = "SELECT pg_advisory_unlock_all()"


def shape(sql: str) -> str:
    """A statement without its literal values, cut short, to tell statements apart."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)[:120]


@dataclass(frozen=True)
class Sample:
    """One request sent by hand: JSON or a form, with its own headers."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


async def count_statements(
    server: servers.Server, samples: list[Sample]
) -> tuple[float, list[str], str]:
    """Send requests one at a time; return statements per request, one request's SQL, a reply.

    The server also works in the background (the outbox dispatcher polls), so the
    statements of an idle stretch as long as the requests took are counted too and
    taken off, and statements of the kinds seen while idle are left out of the sample.
    """
    log = pg_log()
    await asyncio.sleep(0.5)
    offset = log.stat().st_size
    reply = ""
    started = time.monotonic()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for sample in samples:
            async with http.request(
                sample.method,
                server.url + sample.path,
                json=sample.json,
                data=sample.form,
                headers=sample.headers,
            ) as answer:
                reply = await answer.text()
                if answer.status >= 300:
                    raise RuntimeError(f"{sample.method} {sample.path}: {answer.status} {reply}")
    took = time.monotonic() - started
    await asyncio.sleep(1.0)  # the log is written asynchronously
    found = statements_since(log, offset)
    idle_offset = log.stat().st_size
    await asyncio.sleep(took + 1.0)
    idle = statements_since(log, idle_offset)
    per_request = max(len(found) - len(idle), 0) / len(samples)
    # The pool's reset on release follows requests' queries as well as background ones.
    background = {shape(sql) for sql in idle if not sql.startswith(POOL_RESET)}
    own = [sql for sql in found if shape(sql) not in background]
    one = own[: round(per_request)]
    listing = [
        "(asyncpg pool reset on release) " + shape(sql)
        if sql.startswith(POOL_RESET)
        else shape(sql)
        for sql in one
    ]
    return per_request, listing, reply[:300]


# ---------------------------------------------------------------- load + py-spy


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return found


def profile_under_load(
    server: servers.Server, script: str, args: list[str], seconds: float, out: Path
) -> Profile:
    result: list[wrk.WrkResult] = []

    def load() -> None:
        result.append(
            wrk.run(
                url=server.url,
                script=script,
                args=args,
                seconds=seconds + 3,
                connections=32,
                threads=2,
            )
        )

    driver = threading.Thread(target=load)
    driver.start()
    time.sleep(1.5)
    subprocess.run(
        [
            py_spy(),
            "record",
            "--format",
            "raw",
            "--idle",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(round(seconds)),
            "--pid",
            str(server.worker_pids()[0]),
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    driver.join()
    if result:
        r = result[0]
        print(f"  under py-spy: {r.rps:,.0f} req/s, p99 {r.p99_ms:.1f} ms, errors {r.errors}")
    return summarise(out)


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def api(url: str, log: Path) -> Iterator[servers.Server]:
    port = servers.free_port()
    env = {
        "DATABASE_URL": url,
        "ADMIN_API_TOKEN": TOKEN,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        # Outbound SMS must never leave the machine: a closed local port.
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        "SMS_INBOUND_PER_MINUTE": "1000000",
    }
    command = [*servers.waitlist_command(), "serve", "--port", str(port)]
    with servers.running(
        "waitlist serve (profile)", command, port=port, env=env, cwd=OUT, log=log
    ) as server:
        yield server


async def set_statement_logging(admin: str, on: bool) -> None:
    conn = await asyncpg.connect(databases.asyncpg_dsn(admin))
    try:
        value = "SET log_statement = 'all'" if on else "RESET log_statement"
        await conn.execute(f'ALTER DATABASE "{DATABASE}" {value}')
    finally:
        await conn.close()


@dataclass
class Scenario:
    name: str
    samples: Callable[[servers.Server], list[Sample]]
    script: str
    wrk_args: Callable[[servers.Server], list[str]]


async def seed(url: str, seconds: float) -> tuple[list[Scenario], int]:
    """Providers, users and queues for every scenario; return the scenarios."""
    seeder = await PostgresSeeder.connect(url)
    budget = int(seconds + 5) * 4000
    try:
        provider = await seeder.provider("+19990000001", "Profile provider")
        queue_provider = await seeder.provider("+19990000002", "Profile queue")
        sms_provider = await seeder.provider(SMS_PROVIDER_PHONE, "Profile SMS", code="BENCH")
        today = datetime.now(UTC).date()
        queue_day = today + timedelta(days=2)
        await seeder.queue(queue_provider, queue_day, 5_000_000, 2_000)
        await seeder.queue(sms_provider, today, 6_000_000, 1_000)
        sms_phones = [user_phone(i) for i in range(6_000_000, 6_001_000)]
        await seeder.sms_history(sms_phones, per_phone=SMS_HISTORY, now=datetime.now(UTC))
        # The same line in Spanish: its customers kept in Spanish, as bench's sms_es.
        es_provider = await seeder.provider(SMS_ES_PROVIDER_PHONE, "Profile SMS ES", code="ESP")
        await seeder.queue(es_provider, today, 6_100_000, 1_000)
        es_phones = [user_phone(i) for i in range(6_100_000, 6_101_000)]
        await seeder.sms_history(es_phones, per_phone=SMS_HISTORY, now=datetime.now(UTC))
        await seeder.speaking(es_phones, "es")
        await seeder.users([user_phone(i) for i in range(1_000_000, 1_000_000 + budget)])
        await seeder.analyze()
    finally:
        await seeder.close()

    day = today + timedelta(days=1)
    queue_path = (
        f"/appointments/?service_account_phone={quote(queue_provider.phone)}"
        f"&day={queue_day.isoformat()}&limit=100"
    )

    def bookings(_: servers.Server) -> list[Sample]:
        return [
            Sample(
                "POST",
                "/appointments/",
                json={
                    "user_phone": user_phone(1_000_000 + i),
                    "service_account_phone": provider.phone,
                    "appointment_date": f"{day.isoformat()}T10:30:00",
                },
            )
            for i in range(SAMPLED_REQUESTS)
        ]

    def booking_load(_: servers.Server) -> list[str]:
        keys = str(budget - SAMPLED_REQUESTS)
        epoch_day = (day + timedelta(days=5) - date(1970, 1, 1)).days
        first = str(1_000_000 + SAMPLED_REQUESTS)
        return [keys, TOKEN, provider.phone, first, keys, str(epoch_day)]

    def sms(
        first_user: int, body: str
    ) -> tuple[Callable[[servers.Server], list[Sample]], Callable[[servers.Server], list[str]]]:
        """STATUS texted as `body` by the 1,000 customers from `first_user`."""
        customers = [user_phone(first_user + i) for i in range(1_000)]

        def samples(server: servers.Server) -> list[Sample]:
            validator = RequestValidator(TWILIO_TOKEN)
            url = server.url + twilio_payloads.SMS_PATH
            found = []
            for n in range(SAMPLED_REQUESTS):
                params = twilio_payloads.delivery(
                    first_user + n,
                    from_phone=customers[n],
                    to_phone=TWILIO_NUMBER,
                    body=body,
                    account_sid=TWILIO_ACCOUNT_SID,
                )
                signature = validator.compute_signature(url, params)
                found.append(
                    Sample(
                        "POST",
                        twilio_payloads.SMS_PATH,
                        form=params,
                        headers={"X-Twilio-Signature": signature},
                    )
                )
            return found

        def load(server: servers.Server) -> list[str]:
            path = OUT / f"profile-sms-{body.lower()}-payloads.txt"
            twilio_payloads.write(
                path,
                count=int(seconds + 5) * 4000,
                first_sid=first_user + SAMPLED_REQUESTS + 1,
                customers=customers,
                to_phone=TWILIO_NUMBER,
                body=body,
                auth_token=TWILIO_TOKEN,
                account_sid=TWILIO_ACCOUNT_SID,
                public_base_url=server.url,
            )
            return [str(path), twilio_payloads.SMS_PATH]

        return samples, load

    english, spanish = sms(6_000_000, "STATUS"), sms(6_100_000, "ESTADO")
    scenarios = [
        Scenario("booking", bookings, "booking.lua", booking_load),
        Scenario(
            "queue",
            lambda _: [Sample("GET", queue_path)] * SAMPLED_REQUESTS,
            "queue.lua",
            lambda _: [queue_path, TOKEN],
        ),
        Scenario("sms", english[0], "sms.lua", english[1]),
        Scenario("sms_es", spanish[0], "sms.lua", spanish[1]),
    ]
    return scenarios, budget


async def main_async(args: argparse.Namespace) -> None:
    OUT.mkdir(exist_ok=True)
    url = await databases.recreate_postgres(args.postgres_url, DATABASE)
    databases.migrate(servers.waitlist_command(), url, cwd=OUT, log=OUT / "profile-migrate.log")
    wanted = set(args.scenarios.split(","))
    scenarios = [s for s in (await seed(url, args.seconds))[0] if s.name in wanted]
    log = OUT / "profile-server.log"
    log.unlink(missing_ok=True)

    summary: list[str] = []
    await set_statement_logging(args.postgres_url, True)
    try:
        with api(url, log) as server:
            for scenario in scenarios:
                n, sql, reply = await count_statements(server, scenario.samples(server))
                summary.append(
                    f"{scenario.name}: {n:.1f} SQL statements per request:\n    "
                    + "\n    ".join(sql)
                    + f"\n  a reply: {reply!r}"
                )
    finally:
        await set_statement_logging(args.postgres_url, False)
    text = "\n".join(summary)
    (OUT / "profile-statements.md").write_text(text + "\n")
    print(text, flush=True)

    # Restarted: sessions opened while logging was on would keep logging every statement.
    with api(url, log) as server:
        for scenario in scenarios:
            out = OUT / f"profile-{scenario.name}.txt"
            print(f"profiling {scenario.name} for {args.seconds:g} s ...", flush=True)
            profile = await asyncio.to_thread(
                profile_under_load,
                server,
                scenario.script,
                scenario.wrk_args(server),
                args.seconds,
                out,
            )
            text = report(scenario.name, profile)
            (OUT / f"profile-{scenario.name}.md").write_text(text + "\n")
            print(text, flush=True)
        problems = server.log_problems()
    if problems:
        print(f"server log: {len(problems)} problem line(s), first: {problems[0]}")
    await databases.drop_postgres(args.postgres_url, DATABASE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenarios", default="booking,queue,sms,sms_es")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres-url", default=databases.DEFAULT_POSTGRES)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
