"""The web screens' two speed targets (issue 15), on PostgreSQL:

- Status page: `GET /s/<token>` of the people in a line 2,000 deep, at 32 connections:
  ≥ 2,000/s, p99 ≤ 50 ms.
- Fan-out: 1,000 open event streams (status pages and boards of one line) on one
  server process; each NEXT (a signed SMS from the provider) reaches all of them within
  1 s at p99; the server's RSS stays ≤ 200 MB; and the booking scenario, run while they
  are open, stays ≥ 0.8× of its figure without them.

Only this build is measured (the build before has no screens): its links are seeded in
its own database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp

from bench import servers, twilio_payloads
from bench.context import TWILIO_ACCOUNT_SID, TWILIO_NUMBER, Bench, Subject, add_row, echo, measure
from bench.seed import Provider, Seeder, TwinSeeder

STATUS_LABEL = "Status page (2,000 waiting, a random visitor's page)"
LINE_SIZE = 2000
STREAMS = 1000
NEXTS = 5
REACH_TARGET_S = 1.0
RSS_TARGET_MB = 200
BOOKING_RATIO_TARGET = 0.8


def token(n: int) -> str:
    """The bench's status-link tokens: well formed (22 URL-safe characters), known to
    status.lua, and stored as the server stores any: by their SHA-256."""
    return f"benchstatus{n:011d}"


def own(seeder: Seeder) -> Seeder:
    """This build's database (a TwinSeeder seeds the build before's too)."""
    return seeder.first if isinstance(seeder, TwinSeeder) else seeder


async def seed_line(bench: Bench, provider: Provider, *, today: bool) -> tuple[int, int]:
    """LINE_SIZE people waiting for `provider` (today, or a fresh day), each with a
    status link: the first token's number and how many."""
    day = datetime.now(UTC).date() if today else bench.take_day()
    await bench.seeder.queue(provider, day, bench.take_users(LINE_SIZE), LINE_SIZE)
    mine = own(bench.seeder)
    ids = await mine.column(
        f"SELECT id FROM appointments WHERE service_account_id = {provider.id}"
        f" AND day = '{day.isoformat()}' AND status = 'active' ORDER BY id"
    )
    first = bench.take_users(len(ids))  # numbers no other line's tokens use
    now = datetime.now(UTC)
    await mine.rows(
        "status_links",
        ("token_hash", "appointment_id", "day", "created_at"),
        [
            (hashlib.sha256(token(first + n).encode()).hexdigest(), appointment_id, day, now)
            for n, appointment_id in enumerate(ids)
        ],
    )
    await bench.seeder.analyze()
    return first, len(ids)


async def scenario_status_page(bench: Bench, api: servers.Server) -> None:
    echo("status page")
    provider = await bench.seeder.provider("+19990000061", "Bench status provider", "STAT")
    first, count = await seed_line(bench, provider, today=False)
    async with aiohttp.ClientSession() as http, http.get(api.url + "/s/" + token(first)) as page:
        text = await page.text()
    good = page.status == 200 and "Bench status provider" in text
    bench.report.checks.append(
        f"{bench.label} status page of the first in line: {page.status}"
        f" — {'ok' if good else 'WRONG'}"
    )
    subject = Subject(STATUS_LABEL, api, lambda _: [str(first), str(count)])
    runs = await asyncio.to_thread(measure, bench, "status.lua", [subject])
    add_row(bench, "status-page", STATUS_LABEL, runs[0])


class Stream:
    """One open event stream: when each `data:` event arrived, and the last one's state
    (a status page's; a board's events carry none)."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.state: str | None = None
        self.opened = asyncio.Event()

    async def follow(self, http: aiohttp.ClientSession, url: str) -> None:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=None)) as answer:
            answer.raise_for_status()
            async for line in answer.content:
                if line.startswith(b"data:"):
                    self.arrivals.append(time.monotonic())
                    with contextlib.suppress(ValueError, AttributeError):
                        self.state = json.loads(line[5:]).get("state")
                    self.opened.set()

    def first_after(self, moment: float) -> float | None:
        return next((t - moment for t in self.arrivals if t >= moment), None)


async def _next_by_sms(bench: Bench, api: servers.Server, provider_phone: str) -> int:
    bench.hand_sid -= 1
    params = twilio_payloads.delivery(
        bench.hand_sid,
        from_phone=provider_phone,
        to_phone=TWILIO_NUMBER,
        body="NEXT",
        account_sid=TWILIO_ACCOUNT_SID,
    )
    url = api.url + twilio_payloads.SMS_PATH
    headers = {"X-Twilio-Signature": twilio_payloads.sign(url, params, bench.twilio_token)}
    async with aiohttp.ClientSession() as http, http.post(url, data=params, headers=headers) as r:
        await r.read()
        return r.status


def _booking_rps(bench: Bench, api: servers.Server, keys: Callable[[str], list[str]]) -> float:
    runs = measure(bench, "booking.lua", [Subject("Booking (fan-out check)", api, keys)])
    return statistics.median(run.rps for run in runs[0])


async def scenario_fanout(bench: Bench, api: servers.Server, booking_provider: Provider) -> None:
    from bench.scenarios import booking_keys

    echo(f"fan-out: {STREAMS} event streams of one line")
    phone = "+19990000062"
    provider = await bench.seeder.provider(phone, "Bench fan-out provider", "FAN")
    first, count = await seed_line(bench, provider, today=True)
    alone = _booking_rps(bench, api, await booking_keys(bench, booking_provider))
    streams = [Stream() for _ in range(STREAMS)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        urls = [
            api.url + (f"/s/{token(first + n % count)}/events" if n % 2 else "/board/FAN/events")
            for n in range(STREAMS)
        ]
        tasks = [asyncio.create_task(s.follow(http, u)) for s, u in zip(streams, urls, strict=True)]
        try:
            async with asyncio.timeout(60):
                await asyncio.gather(*(s.opened.wait() for s in streams))
            reach: list[float] = []
            missed = 0
            for _ in range(NEXTS):
                await asyncio.sleep(1.0)
                # A page of someone called by an earlier NEXT shows the same after this
                # one (still called): only the others must change.
                changing = [s for s in streams if s.state != "called"]
                moment = time.monotonic()
                status = await _next_by_sms(bench, api, phone)
                await asyncio.sleep(REACH_TARGET_S * 3)
                got = [s.first_after(moment) for s in changing]
                reach += [g for g in got if g is not None]
                missed += sum(g is None for g in got) + (status != 200)
            rss = max(api.rss_mb().values())
            keys = await booking_keys(bench, booking_provider)
            during = await asyncio.to_thread(_booking_rps, bench, api, keys)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
    reach.sort()
    p50 = reach[len(reach) // 2] if reach else float("inf")
    p99 = reach[int(len(reach) * 0.99) - 1] if reach else float("inf")
    ratio = during / alone if alone else 0.0
    met = p99 <= REACH_TARGET_S and missed == 0
    bench.report.screens += [
        f"{STREAMS} open event streams ({STREAMS // 2} status pages, {STREAMS // 2} boards of"
        f" one line {count} deep), {NEXTS} NEXTs by SMS: reached p50 {p50 * 1000:.0f} ms,"
        f" p99 {p99 * 1000:.0f} ms, missed {missed} (target p99 ≤ {REACH_TARGET_S:g} s, none"
        f" missed) — {'met' if met else '**missed**'}",
        f"server RSS with the streams open: {rss:.0f} MB (target ≤ {RSS_TARGET_MB} MB) — "
        + ("met" if rss <= RSS_TARGET_MB else "**missed**"),
        f"booking while they were open: {during:,.0f}/s against {alone:,.0f}/s without them,"
        f" {ratio:.2f}× (target ≥ {BOOKING_RATIO_TARGET}×) — "
        + ("met" if ratio >= BOOKING_RATIO_TARGET else "**missed**"),
    ]
