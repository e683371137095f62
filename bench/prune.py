"""The prune scenario: booking and SMS STATUS while `waitlist prune` deletes N old rows,
against the same without a prune, in alternating slices (PostgreSQL).

Each round seeds `--prune-rows` rows past retention (half inbound records 30 days
old, half sent outbox rows 60 days old), measures a quiet slice of each load, starts
`waitlist prune` and, once its run has begun (recorded in prune_runs), measures slices
of each load, taking turns, for as long as it runs (at least one of each, at most
MAX_DURING), then a quiet slice of each again once it has finished. The issue's
target: during / quiet at least 0.8 for both loads.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

from bench import servers, twilio_payloads, wrk
from bench.context import OUT, TWILIO_ACCOUNT_SID, TWILIO_NUMBER, Bench, add_row, echo, wrk_once
from bench.scenarios import PRUNE_PROVIDER_PHONE, BookingKeys, sms_customers
from bench.seed import Provider

BOOKING_QUIET = "Booking, distinct users, no prune"
BOOKING_DURING = "Booking, distinct users, during a prune"
SMS_QUIET = "SMS webhook, STATUS from 1,000 customers, no prune"
SMS_DURING = "SMS webhook, STATUS from 1,000 customers, during a prune"
# Slices of each load per round while the prune runs, at most.
MAX_DURING = 6

_SEED_INBOUND = """
INSERT INTO inbound_messages (channel, external_id, phone, reply, created_at, received_on)
SELECT 'sms', 'SMprune{round}_' || g, '+1998' || lpad((g % 1000000)::text, 7, '0'),
       'Old answer', now() - interval '30 days', (now() - interval '30 days')::date
FROM generate_series(1, {count}) g
"""
_SEED_OUTBOX = """
INSERT INTO outbox (channel, recipient, text, status, attempts, next_attempt_at,
                    idempotency_key, created_at, sent_at)
SELECT 'sms', '+1998' || lpad((g % 1000000)::text, 7, '0'), 'Old notice', 'sent', 1,
       now() - interval '60 days', 'prune{round}_' || g, now() - interval '60 days',
       now() - interval '60 days'
FROM generate_series(1, {count}) g
"""


_LAST_RUN_SECONDS = (
    "SELECT EXTRACT(EPOCH FROM finished_at - started_at) FROM prune_runs ORDER BY id DESC LIMIT 1"
)


_RUNNING = "SELECT count(*) FROM prune_runs WHERE finished_at IS NULL"


class _SmsKeys:
    """Signed STATUS deliveries, a fresh file (and fresh MessageSids) per slice."""

    def __init__(self, bench: Bench, server: servers.Server, customers: list[str]) -> None:
        self._bench, self._server, self._customers = bench, server, customers
        # Above the sms scenario's MessageSids (they count up from 1).
        self._next_sid = 10**12
        self._n = 0

    def __call__(self, seconds: float) -> list[str]:
        o = self._bench.options
        lines = int(o.max_rps * seconds)
        self._n += 1
        path = OUT / f"prune-sms-{self._n}.txt"
        twilio_payloads.write(
            path,
            count=lines,
            first_sid=self._next_sid,
            customers=self._customers,
            to_phone=TWILIO_NUMBER,
            body="STATUS",
            auth_token=self._bench.twilio_token,
            account_sid=TWILIO_ACCOUNT_SID,
            public_base_url=self._server.url,
        )
        self._next_sid += lines
        return [str(path), twilio_payloads.SMS_PATH]


def _start_prune(bench: Bench) -> subprocess.Popen[str]:
    command = [*servers.waitlist_command(), "prune"]
    env = {**os.environ, "DATABASE_URL": bench.database_url}
    log = (OUT / "prune.log").open("a")
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=OUT
    )


async def _seed(bench: Bench, round_: int, rows: int) -> None:
    half = rows // 2
    await bench.seeder.execute(_SEED_INBOUND.format(round=round_, count=rows - half))
    await bench.seeder.execute(_SEED_OUTBOX.format(round=round_, count=half))
    await bench.seeder.analyze()


async def _pruning_begins(bench: Bench, prune: subprocess.Popen[str]) -> None:
    """Wait until the command has started and begun its run (its start-up, imports and
    connecting, is not what the scenario measures)."""
    while prune.poll() is None and not await bench.seeder.scalar(_RUNNING):  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def _deleted(output: str) -> int:
    """The rows `waitlist prune` says it deleted, over every table."""
    total = 0
    for line in output.splitlines():
        _, _, rest = line.partition(": ")
        if rest.split(" ", 1)[0].isdigit():
            total += int(rest.split(" ", 1)[0])
    return total


async def scenario_prune(bench: Bench, api: servers.Server, provider: Provider) -> None:
    o = bench.options
    rows = o.prune_rows
    echo(f"prune: booking and SMS STATUS during a prune of {rows:,} rows, against none")
    customers = await sms_customers(
        bench, provider_phone=PRUNE_PROVIDER_PHONE, name="Bench prune provider", code="PRUNE"
    )
    booking = BookingKeys(bench, provider, int(o.max_rps * max(o.slice_seconds, o.warmup)))
    await booking.prepare(1 + o.repeat * (1 + MAX_DURING))
    sms = _SmsKeys(bench, api, customers)
    script = {"booking": "booking.lua", "sms": "sms.lua"}

    def args(kind: str, phase: str, seconds: float) -> list[str]:
        return booking(phase) if kind == "booking" else sms(seconds)

    def slice_(kind: str, phase: str = "run", seconds: float | None = None) -> wrk.WrkResult:
        length = seconds or o.slice_seconds
        return wrk_once(bench, api, script[kind], args(kind, phase, length), length)

    for kind in script:
        await asyncio.to_thread(slice_, kind, "warmup", o.warmup)
    quiet: dict[str, list[wrk.WrkResult]] = {"booking": [], "sms": []}
    during: dict[str, list[wrk.WrkResult]] = {"booking": [], "sms": []}
    for round_ in range(1, o.repeat + 1):
        await _seed(bench, round_, rows)
        for kind in script:
            quiet[kind].append(await asyncio.to_thread(slice_, kind))
        started = time.monotonic()
        prune = _start_prune(bench)
        await _pruning_begins(bench, prune)
        for n in range(MAX_DURING):
            kind = "booking" if n % 2 == 0 else "sms"
            if n >= 2 and prune.poll() is not None:
                break
            during[kind].append(await asyncio.to_thread(slice_, kind))
        output, _ = await asyncio.to_thread(prune.communicate)
        command_seconds = time.monotonic() - started
        # Quiet again once it is done: the shared server slows as its tables fill
        # (autovacuum off), and quiet slices only before the prune would count that
        # against the prune.
        for kind in script:
            quiet[kind].append(await asyncio.to_thread(slice_, kind))
        deleted = _deleted(output)
        # The run's own time, as it recorded it (the command's also counts its start-up).
        seconds = float(await bench.seeder.scalar(_LAST_RUN_SECONDS) or 0) or command_seconds
        bench.report.checks.append(
            f"{bench.label} prune round {round_}: `waitlist prune` deleted {deleted:,} rows "
            f"in {seconds:.1f} s ({deleted / seconds:,.0f} rows/s; the command took "
            f"{command_seconds:.1f} s with its start-up), exit {prune.returncode} "
            f"— {'ok' if prune.returncode == 0 and deleted >= rows else 'WRONG'}"
        )
    for key, label, runs in (
        ("prune-booking-quiet", BOOKING_QUIET, quiet["booking"]),
        ("prune-booking", BOOKING_DURING, during["booking"]),
        ("prune-sms-quiet", SMS_QUIET, quiet["sms"]),
        ("prune-sms", SMS_DURING, during["sms"]),
    ):
        add_row(bench, key, label, [wrk.merged(runs)] if runs else [])
    for kind in script:
        if quiet[kind] and during[kind]:
            ratio = wrk.merged(during[kind]).rps / wrk.merged(quiet[kind]).rps
            bench.report.checks.append(
                f"{bench.label} {kind} during a prune of {rows:,} rows: {ratio:.2f}x of no prune "
                f"— {'ok' if ratio >= 0.8 else 'MISSED (target 0.8x)'}"
            )
