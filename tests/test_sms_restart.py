"""Nothing is lost, nothing is sent twice: a dispatching process killed mid-send
delivers everything after a restart, each message exactly once.

A real subprocess (`waitlist serve`, or a bare dispatcher process with a short lease)
works against the test database, the fake Twilio answers slowly, and the process is
killed with SIGKILL while requests are in flight. Like Twilio, the fake has no
idempotency: a POST whose caller died is a message sent. So the restarted process must
not POST those messages again: it finds them in Twilio's message list (the rows were
claimed and no outcome was recorded) and marks them sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.days import utcnow
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.sms_support import OUR_NUMBER, PUBLIC

ROOT = Path(__file__).resolve().parent.parent
LEASE_SECONDS = 2.0

# The server's own wiring, minus HTTP: the Sender from the same factory the app's
# cleanup_ctx uses, and the outbox dispatcher.
WORKER = """
import asyncio, sys
from bot.dispatcher import Dispatcher
from core import db
from core.models import Channel
from core.settings import Settings
from webhooks.sms.sender import twilio_sms_sender

async def main():
    settings = Settings()
    ctx = await db.start(settings.database_url)
    async with twilio_sms_sender(settings) as sender:
        dispatcher = Dispatcher(
            {Channel.SMS: sender}, poll_interval=0.05, lease_seconds=float(sys.argv[1])
        )
        await dispatcher.start()
        print("dispatching", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""

RECIPIENTS = ["+14155550101", "+14155550102", "+14155550103"]


def environment(database_url: str, api: FakeTwilio) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": api.url,
        "PUBLIC_BASE_URL": PUBLIC,
        "SMS_MAX_PER_SECOND": "1000",
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }


async def start_worker(
    database_url: str, api: FakeTwilio, cwd: Path, port: int
) -> asyncio.subprocess.Process:
    """A process running the dispatcher alone, with a lease short enough to wait out."""
    # cwd: a directory without a .env file, so only these settings apply.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, str(LEASE_SECONDS),
        env=environment(database_url, api), cwd=cwd, stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    async with asyncio.timeout(60):
        assert (await process.stdout.readline()).strip() == b"dispatching"
    return process


async def start_server(
    database_url: str, api: FakeTwilio, cwd: Path, port: int
) -> asyncio.subprocess.Process:
    """`waitlist serve`, as in production: the outbox dispatcher runs in the server."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "webhooks.cli", "serve", "--port", str(port), "--no-migrate",
        env=environment(database_url, api), cwd=cwd,
    )
    async with aiohttp.ClientSession() as session, asyncio.timeout(60):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process, sig: int) -> None:
    if process.returncode is None:
        process.send_signal(sig)
    async with asyncio.timeout(30):
        await process.wait()


async def all_sent(count: int) -> None:
    # The other process writes the database: poll it, generously.
    async with asyncio.timeout(60):
        while True:
            if await OutboxMessage.filter(status=OutboxStatus.SENT).count() >= count:
                return
            await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("start", "lease_passes"),
    [(start_server, "moved"), (start_worker, "waited")],
    ids=["waitlist-serve", "dispatcher-process"],
)
async def test_a_process_killed_mid_send_delivers_every_message_once_after_restart(
    orm, tmp_path, unused_tcp_port, start, lease_passes
):
    # Two messages per recipient: one recipient's messages go out in order, so when the
    # kill comes each recipient has one message in flight and one not yet tried.
    keys = []
    for round_ in range(2):
        for n, phone in enumerate(RECIPIENTS):
            key = f"turn-{round_}-{n}"
            keys.append(key)
            await OutboxMessage.create(
                channel=Channel.SMS.value,
                recipient=phone,
                text=f"message {round_} for {n}",
                next_attempt_at=utcnow() - timedelta(seconds=1),
                idempotency_key=key,
            )

    async with FakeTwilio(delay=1.5) as api:
        first = await start(orm, api, tmp_path, unused_tcp_port)
        try:
            await api.wait_for_requests(len(RECIPIENTS), within=60)
            await stop(first, signal.SIGKILL)
            killed_with_in_flight = api.in_flight
        finally:
            await stop(first, signal.SIGKILL)
        if lease_passes == "moved":
            # The server's lease is two minutes: let it pass rather than wait it out.
            await OutboxMessage.filter(status=OutboxStatus.PENDING).update(
                next_attempt_at=utcnow() - timedelta(seconds=1)
            )

        second = await start(orm, api, tmp_path, unused_tcp_port)
        try:
            await all_sent(len(keys))
        finally:
            await stop(second, signal.SIGTERM)

    assert killed_with_in_flight >= 1
    # Every message was accepted by Twilio exactly once, with its own text: a second
    # accepted POST for a message would be a second text on the customer's phone.
    per_key = api.per_key()
    assert sorted(per_key) == sorted(keys)
    for key, accepted in per_key.items():
        assert len(accepted) == 1, f"{key} was sent {len(accepted)} times"
        _, round_, n = key.split("-")
        assert accepted[0].to == RECIPIENTS[int(n)]
        assert accepted[0].body == f"message {round_} for {n}"
    assert len(api.requests) == len(keys)
    assert api.duplicates == 0
    # The restarted process asked Twilio about the messages cut off in flight.
    assert api.lookups
    print(
        f"\nkill-and-restart ({start.__name__}): {len(keys)} messages, "
        f"{len(api.requests)} POSTs, {killed_with_in_flight} in flight at the kill, "
        f"{api.duplicates} duplicates, {len(api.lookups)} lookups"
    )
    rows = await OutboxMessage.all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    by_key = {m.key: m.sid for m in api.messages}
    assert {r.idempotency_key: r.external_id for r in rows} == by_key
    assert all(r.sending_started_at is None for r in rows)
