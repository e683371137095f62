"""The scenarios of issue 6: seeding each, driving it with wrk, checking what it wrote."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp

from bench import freetext, servers, twilio_payloads, wrk
from bench.context import (
    OUT,
    TWILIO_ACCOUNT_SID,
    TWILIO_NUMBER,
    Bench,
    Subject,
    add_row,
    echo,
    measure,
)
from bench.seed import Provider, Seeder, user_phone

QUEUE_SIZE = 2_000
QUEUE_LABEL = f"Queue read ({QUEUE_SIZE:,} waiting, limit=100)"
# Bookings a second into the line read by the changing-line queue scenario.
LINE_CHANGES = 20
QUEUE_CHANGING_LABEL = f"Queue read while {LINE_CHANGES} bookings a second change the line"
HISTORY_EVENTS = 5_000
SMS_CUSTOMERS = 1_000
# Earlier texts per customer, answered days ago (see Seeder.sms_history).
SMS_HISTORY = 20
SMS_PROVIDER_PHONE = "+19990000900"
# The history scenario: a few people booking day after day, with and without a past.
HISTORY_USERS = 16
# Epoch days far enough ahead that history bookings never meet another scenario's day.
HISTORY_FIRST_DAY = (date.today() + timedelta(days=3650) - date(1970, 1, 1)).days


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
    keys = BookingKeys(bench, provider, int(o.max_rps * max(o.slice_seconds, o.warmup)))
    await keys.prepare(1 + o.wrk_runs)
    return keys


async def active_rows(seeder: Seeder, provider: Provider, day: date) -> int:
    return int(
        await seeder.scalar(
            f"SELECT count(*) FROM appointments WHERE service_account_id = {provider.id}"
            f" AND day = '{day.isoformat()}' AND status = 'active'"
        )
    )


async def double_bookings(seeder: Seeder) -> int:
    return int(
        await seeder.scalar(
            "SELECT count(*) FROM (SELECT user_id, day FROM appointments WHERE status = 'active'"
            " GROUP BY user_id, day HAVING count(*) > 1) AS twice"
        )
    )


async def outbox_rows(bench: Bench) -> int:
    return int(await bench.seeder.scalar("SELECT count(*) FROM outbox"))


async def check_bookings(
    bench: Bench,
    contender: Contender,
    provider: Provider,
    keys: BookingKeys,
    runs: list[wrk.WrkResult],
) -> None:
    """Every 2xx is a row; a few more rows are fine (requests cut off when wrk stops).

    Each slice of a round books on a day of its own, so a round's rows are the sum
    over its slices' days, and each slice may leave up to `connections` extra rows.
    """
    seeder, what = bench.seeder_of(contender.server), contender.label
    slices = bench.options.slices
    days = keys.measured_days
    rounds = [days[i : i + slices] for i in range(0, len(days), slices)]
    for round_days, run in zip(rounds, runs, strict=True):
        created = sum([await active_rows(seeder, provider, day) for day in round_days])
        ok = run.requests - run.non2xx
        slack = bench.options.connections * slices
        verdict = "ok" if ok <= created <= ok + slack else "MISMATCH"
        bench.report.checks.append(
            f"{bench.label} {what}: {created} appointments on the round's days for {ok} 2xx "
            f"answers — {verdict}"
        )
    twice = await double_bookings(seeder)
    bench.report.checks.append(
        f"{bench.label} after {what}: users with two active appointments on one day: {twice}"
        f" — {'ok' if twice == 0 else 'WRONG'}"
    )


@dataclass(frozen=True)
class Contender:
    """A server in the booking scenario, and the row its figures go to."""

    key: str
    label: str
    server: servers.Server
    processes: int = 1


async def scenario_booking(bench: Bench, provider: Provider, contenders: list[Contender]) -> None:
    """Booking by distinct new users, the contenders measured in the same rounds."""
    echo("booking by distinct users: " + ", ".join(c.label for c in contenders))
    keys = [await booking_keys(bench, provider) for _ in contenders]
    subjects = [Subject(c.label, c.server, k) for c, k in zip(contenders, keys, strict=True)]
    runs = await asyncio.to_thread(measure, bench, "booking.lua", subjects)
    for contender, key, result in zip(contenders, keys, runs, strict=True):
        await check_bookings(bench, contender, provider, key, result)
        add_row(bench, contender.key, contender.label, result, processes=contender.processes)


async def prepare_queue(bench: Bench, provider: Provider) -> str:
    """2,000 people waiting on one day; return the path of the queue's first page."""
    day = bench.take_day()
    await bench.seeder.queue(provider, day, bench.take_users(QUEUE_SIZE), QUEUE_SIZE)
    await bench.seeder.analyze()
    return (
        f"/appointments/?service_account_phone={quote(provider.phone)}"
        f"&day={day.isoformat()}&limit=100"
    )


async def scenario_queue(bench: Bench, path: str, contenders: list[Contender]) -> None:
    echo("queue read: " + ", ".join(c.label for c in contenders))
    headers = {"Authorization": f"Bearer {bench.token}"}
    for contender in contenders:
        # A check that the read returns a full page before timing it.
        async with (
            aiohttp.ClientSession(headers=headers) as http,
            http.get(contender.server.url + path) as answer,
        ):
            body = await answer.json()
            size = len(body.get("data") or [])
        bench.report.checks.append(
            f"{bench.label} {contender.label}: {QUEUE_SIZE} waiting, one page answered "
            f"{size} appointments — {'ok' if size == 100 else 'WRONG'}"
        )
    subjects = [Subject(c.label, c.server, lambda _: [path, bench.token]) for c in contenders]
    runs = await asyncio.to_thread(measure, bench, "queue.lua", subjects)
    for contender, result in zip(contenders, runs, strict=True):
        add_row(bench, contender.key, contender.label, result)


async def scenario_queue_changing(
    bench: Bench, path: str, provider: Provider, contenders: list[Contender]
) -> None:
    """The queue read again while bookings change the line LINE_CHANGES times a second.

    The plain queue read never changes its line, so every read after the first is a
    page cache hit; here each booking makes the next read of each server process a
    miss, which costs the probe and the page query.
    """
    echo(f"queue read, line changing {LINE_CHANGES}/s: " + ", ".join(c.label for c in contenders))
    day = date.fromisoformat(parse_qs(urlsplit(path).query)["day"][0])
    o = bench.options
    seconds = (o.warmup + o.seconds * o.repeat) * len(contenders) + 5
    first = bench.take_users(int(LINE_CHANGES * seconds))
    phones = [user_phone(i) for i in range(first, first + int(LINE_CHANGES * seconds))]
    await bench.seeder.users(phones)
    answers: Counter[int] = Counter()
    stop = asyncio.Event()

    async def book_steadily(url: str) -> None:
        headers = {"Authorization": f"Bearer {bench.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for phone in phones:
                if stop.is_set():
                    return
                body = {
                    "user_phone": phone,
                    "service_account_phone": provider.phone,
                    "appointment_date": f"{day.isoformat()}T10:30:00",
                }
                async with http.post(url + "/appointments/", json=body) as answer:
                    answers[answer.status] += 1
                await asyncio.sleep(1 / LINE_CHANGES)

    subjects = [Subject(c.label, c.server, lambda _: [path, bench.token]) for c in contenders]
    # One booker per database, through the API: the baseline reads this build's
    # database, whose line this build's server changes; the build before changes its own.
    by_database = {
        bench.url_of(c.server): c.server.url
        for c in contenders
        if not c.key.endswith("-baseline")
    }
    bookers = [asyncio.create_task(book_steadily(url)) for url in by_database.values()]
    try:
        runs = await asyncio.to_thread(measure, bench, "queue.lua", subjects)
    finally:
        stop.set()
        await asyncio.gather(*bookers)
    booked = answers[201]
    verdict = "ok" if booked and set(answers) == {201} else "WRONG"
    bench.report.checks.append(
        f"{bench.label} queue read while the line changed: {booked} bookings answered 201 "
        f"({dict(answers)}) — {verdict}"
    )
    for contender, result in zip(contenders, runs, strict=True):
        add_row(bench, contender.key, contender.label, result)


async def scenario_history(
    bench: Bench,
    server: servers.Server,
    provider: Provider,
    before: servers.Server | None = None,
) -> None:
    """The same bookings by people with 5,000 past events and by people with none.

    Both groups book exactly the same days, in alternating order run after run, so
    the only difference between them is the past. The build before, on its own
    database, books the same days for the same people in the same rounds.
    """
    o = bench.options
    await bench.seeder.open_far_ahead(provider)
    # Keys here are days, which cost nothing to prepare; each subject runs alone, so
    # it gets the same budget a booking run gets.
    budget = int(o.max_rps * max(o.slice_seconds, o.warmup))
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

    def days(first_user: int) -> Callable[[str], list[str]]:
        runs = iter(range(1, 1_000_000))

        def args_for(phase: str) -> list[str]:
            return args(first_user, 0 if phase == "warmup" else next(runs))

        return args_for

    echo(
        f"history: {HISTORY_USERS} users with {HISTORY_EVENTS:,} past events each, "
        f"and {HISTORY_USERS} new users booking the same days"
    )
    rows = [
        ("history", f"Booking, users with {HISTORY_EVENTS:,} past events", with_past),
        ("newcomers", "Booking, new users (same days)", newcomers),
    ]
    builds = [("", "", server)] + ([("-before", BEFORE_SUFFIX, before)] if before else [])
    subjects = [
        Subject(label + suffix, target, days(first))
        for _, suffix, target in builds
        for _, label, first in rows
    ]
    keys = [key + build for build, _, _ in builds for key, _, _ in rows]
    runs = await asyncio.to_thread(measure, bench, "booking.lua", subjects)
    for key, subject, result in zip(keys, subjects, runs, strict=True):
        add_row(bench, key, subject.name, result)


async def sms_customers(
    bench: Bench,
    *,
    provider_phone: str = SMS_PROVIDER_PHONE,
    name: str = "Bench SMS provider",
    code: str = "BENCH",
) -> list[str]:
    """1,000 customers, each waiting today at one provider, so STATUS has a place to tell,
    each with earlier texts behind them."""
    provider = await bench.seeder.provider(provider_phone, name, code=code)
    first = bench.take_users(SMS_CUSTOMERS)
    await bench.seeder.queue(provider, datetime.now(UTC).date(), first, SMS_CUSTOMERS)
    phones = [user_phone(i) for i in range(first, first + SMS_CUSTOMERS)]
    await bench.seeder.sms_history(phones, per_phone=SMS_HISTORY, now=datetime.now(UTC))
    await bench.seeder.analyze()
    return phones


async def sms_route_answers(bench: Bench, server: servers.Server, key: str, label: str) -> bool:
    """Is the SMS route there? An unsigned request gets 403 from it and 404 without it."""
    url = server.url + twilio_payloads.SMS_PATH
    async with aiohttp.ClientSession() as http, http.post(url, data={"Body": "x"}) as answer:
        status = answer.status
    if status in (404, 405):
        echo(f"  not available: POST {twilio_payloads.SMS_PATH} answered {status}")
        add_row(bench, key, label, [], note=f"not available (route answered {status})")
        return False
    return True


@dataclass(frozen=True)
class Texting:
    """One SMS load: `customers` in turn text `bodies(count, first_sid)` to `server`,
    reported as row `key`."""

    key: str
    server: servers.Server
    customers: list[str]
    bodies: Callable[[int, int], list[str]]


async def run_sms(
    bench: Bench,
    targets: list[tuple[str, servers.Server]],
    customers: list[str],
    *,
    bodies: Callable[[int, int], list[str]],
) -> list[list[wrk.WrkResult]]:
    """The same texts from `customers` at each (key, server), in the same rounds."""
    return await run_texting(
        bench, [Texting(key, server, customers, bodies) for key, server in targets]
    )


async def run_texting(bench: Bench, loads: list[Texting]) -> list[list[wrk.WrkResult]]:
    """Signed deliveries of each load, a fresh MessageSid each, replayed by wrk in the
    same rounds (so their ratios pair round by round): a warm-up, then the measured
    runs. No two runs send one MessageSid, even to servers of different databases."""
    o = bench.options
    next_sid = 1

    def subject(load: Texting) -> Subject:
        nonlocal next_sid
        files: dict[str, list[Path]] = {"warmup": [], "run": []}
        for phase, seconds, count in (
            ("warmup", o.warmup, 1),
            ("run", o.slice_seconds, o.wrk_runs),
        ):
            for n in range(count):
                path = OUT / f"{load.key}-{bench.label.lower()}-{phase}-{n}.txt"
                lines = int(o.max_rps * seconds)
                twilio_payloads.write(
                    path,
                    count=lines,
                    first_sid=next_sid,
                    customers=load.customers,
                    to_phone=TWILIO_NUMBER,
                    body="",
                    bodies=load.bodies(lines, next_sid),
                    auth_token=bench.twilio_token,
                    account_sid=TWILIO_ACCOUNT_SID,
                    public_base_url=load.server.url,
                )
                next_sid += lines
                files[phase].append(path)

        def args_for(phase: str) -> list[str]:
            return [str(files[phase].pop(0)), twilio_payloads.SMS_PATH]

        return Subject(load.key, load.server, args_for)

    subjects = [subject(load) for load in loads]
    return await asyncio.to_thread(measure, bench, "sms.lua", subjects)


SMS_LABEL = "SMS webhook, STATUS from 1,000 customers"
FREETEXT_LABEL = "SMS webhook, free text from 1,000 customers (names, typos, sentences, emoji)"
FREETEXT_PROVIDER_PHONE = "+19990000901"
SMS_ES_LABEL = "SMS webhook, ESTADO (STATUS in Spanish) from 1,000 customers"
SMS_ES_PROVIDER_PHONE = "+19990000902"
PRUNE_PROVIDER_PHONE = "+19990000903"


async def scenario_sms(
    bench: Bench,
    server: servers.Server,
    before: servers.Server | None = None,
    *,
    english: bool = True,
    spanish: bool = False,
) -> None:
    """STATUS from 1,000 customers; with `spanish`, also ESTADO from 1,000 others kept in
    Spanish and answered from the Spanish catalog, in the same rounds, so targets.judge
    pairs it with the English row round by round. The build before has no Spanish: its
    Spanish is not measured."""
    words = [word for word, on in (("STATUS", english), ("ESTADO in Spanish", spanish)) if on]
    echo(f"SMS webhook ({', '.join(words)})")
    loads: list[Texting] = []
    labels: dict[str, str] = {}
    if english and await sms_route_answers(bench, server, "sms", SMS_LABEL):
        customers = await sms_customers(bench)
        await sms_check(bench, server, customers[0])
        for key, target in with_before("sms", server, before):
            loads.append(Texting(key, target, customers, lambda count, _: ["STATUS"]))
            labels[key] = SMS_LABEL + (BEFORE_SUFFIX if key.endswith("-before") else "")
    if spanish and await sms_route_answers(bench, server, "sms_es", SMS_ES_LABEL):
        customers = await sms_customers(
            bench, provider_phone=SMS_ES_PROVIDER_PHONE, name="Bench Spanish provider", code="ESP"
        )
        await bench.seeder.speaking(customers, "es")
        await sms_check(bench, server, customers[0], body="ESTADO", needle="delante")
        loads.append(Texting("sms_es", server, customers, lambda count, _: ["ESTADO"]))
        labels["sms_es"] = SMS_ES_LABEL
    if not loads:
        return
    runs = await run_texting(bench, loads)
    for load, result in zip(loads, runs, strict=True):
        add_row(bench, load.key, labels[load.key], result)


def with_before(
    key: str, server: servers.Server, before: servers.Server | None
) -> list[tuple[str, servers.Server]]:
    """The (row key, server) pairs of a scenario: this build's, and the build before's."""
    return [(key, server)] + ([(f"{key}-before", before)] if before else [])


def add_rows(
    bench: Bench,
    targets: list[tuple[str, servers.Server]],
    label: str,
    runs: list[list[wrk.WrkResult]],
) -> None:
    for (key, _), result in zip(targets, runs, strict=True):
        add_row(bench, key, label + (BEFORE_SUFFIX if key.endswith("-before") else ""), result)


BEFORE_SUFFIX = ", build before"


async def scenario_freetext(
    bench: Bench, server: servers.Server, before: servers.Server | None = None
) -> None:
    """Free text from 1,000 waiting customers; none of it changes a line."""
    echo("SMS webhook (free text)")
    if not await sms_route_answers(bench, server, "freetext", FREETEXT_LABEL):
        return
    customers = await sms_customers(
        bench, provider_phone=FREETEXT_PROVIDER_PHONE, name="Bench free-text provider", code="FREE"
    )
    for body, needle in (
        ("am I next?", "ahead"),
        ("Jonathan Smithers", "Try JOIN"),
        ("👍", "JOIN"),
    ):
        await sms_check(bench, server, customers[0], body=body, needle=needle)
    targets = with_before("freetext", server, before)
    runs = await run_sms(
        bench,
        targets,
        customers,
        bodies=lambda count, first_sid: freetext.texts(count, seed=first_sid),
    )
    add_rows(bench, targets, FREETEXT_LABEL, runs)


async def sms_check(
    bench: Bench,
    server: servers.Server,
    customer: str,
    *,
    body: str = "STATUS",
    needle: str = "",
) -> None:
    """One signed text by hand (a MessageSid wrk never sends): is the reply a real
    answer (containing `needle`), not the apology?"""
    bench.hand_sid -= 1
    params = twilio_payloads.delivery(
        bench.hand_sid,
        from_phone=customer,
        to_phone=TWILIO_NUMBER,
        body=body,
        account_sid=TWILIO_ACCOUNT_SID,
    )
    url = server.url + twilio_payloads.SMS_PATH
    signature = twilio_payloads.sign(url, params, bench.twilio_token)
    headers = {"X-Twilio-Signature": signature}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=params, headers=headers) as answer,
    ):
        status, reply = answer.status, await answer.text()
    message = reply.split("<Message>")[-1].split("</Message>")[0] if "<Message>" in reply else reply
    good = status == 200 and "<Message>" in reply and needle in message
    verdict = "ok" if good and "went wrong" not in message else "WRONG"
    bench.report.checks.append(
        f"{bench.label} SMS {body} by hand: {status}, reply `{message[:120]}` — {verdict}"
    )


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


async def scaleout_checks(bench: Bench, server: servers.Server, outbox_before: int) -> None:
    """The rules hold across processes: the one-per-day race, and what the outbox got."""
    await race_check(bench, server)
    written = await outbox_rows(bench) - outbox_before
    bench.report.checks.append(
        f"{bench.label} outbox rows written while the 2-process server ran: {written}"
    )


async def workers_supported() -> bool:
    return "--workers" in await help_of_serve()


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
