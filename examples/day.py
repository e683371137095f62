"""A day at a barbershop, by text: run it to see what customers and the provider read.

    python -m examples.day

It runs the conversation engine on a fresh SQLite database in a temporary folder, with
the clock set by the script (so the output is the same every run), and prints every
reply and every message the outbox sends, in order: the outbox's own dispatcher
delivers them to a transport that prints instead of texting. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.engine import handle_message
from core import db
from core.models import Channel
from core.services import grace, service_accounts, users
from core.services.outbox.dispatcher import Dispatcher

SHOP = "+14155550100"
PEOPLE = {
    "+14155550101": "Ann Lee",
    "+14155550102": "Bob Ray",
    "+14155550103": "Cy Moss",
    "+14155550104": "Di Park",
}
NAMES = {SHOP: "Shop", **{phone: name.split()[0] for phone, name in PEOPLE.items()}}
START = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles


class Printed:
    """An SMS transport that prints what it would send."""

    channel = Channel.SMS

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str:
        print(f"{'':>11}  [text to {NAMES.get(recipient_phone, '?')}] {text}")
        return f"printed-{idempotency_key}"


class Day:
    def __init__(self) -> None:
        self.now = START
        self._dispatcher = Dispatcher({Channel.SMS: Printed()}, clock=lambda: self.now)

    def at(self, minutes: float) -> None:
        self.now = START + timedelta(minutes=minutes)

    def _clock(self) -> str:
        local = self.now - timedelta(hours=8)
        return local.strftime("%H:%M")

    async def says(self, phone: str, text: str) -> None:
        reply = await handle_message(
            channel=Channel.SMS, phone=phone, text=text, default_provider_phone=SHOP,
            now=self.now,
        )
        print(f"{self._clock()}  {NAMES[phone]:>4} > {text}")
        print(f"{'':>11}< {reply.text}")
        await self.outbox()

    async def timers(self) -> None:
        """What the server's grace worker would do at this minute."""
        fired = await grace.fire_due(now=self.now)
        print(f"{self._clock()}  [grace worker: {fired} timer(s) due]")
        await self.outbox()

    async def outbox(self) -> None:
        while await self._dispatcher.run_once():
            pass


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'day.db'}"
        await db.migrate(url)
        ctx = await db.start(url)
        try:
            await service_accounts.create_service_account(
                phone=SHOP, name="Fade Barbers", code="FADE", timezone="America/Los_Angeles",
                grace_minutes=10,
            )
            for phone, name in PEOPLE.items():
                await users.create_user(name=name, phone=phone)
            await run(Day())
        finally:
            await ctx.close_connections()


async def run(day: Day) -> None:
    ann, bob, cy, _ = PEOPLE
    for minute, phone in enumerate(PEOPLE):
        day.at(minute)
        await day.says(phone, "join fade")
    day.at(5)
    await day.says(bob, "I'll be 40 min late")
    await day.says(cy, "why am I #2")
    day.at(10)
    await day.says(SHOP, "delay 10 short on staff")
    day.at(12)
    await day.says(SHOP, "next")
    await day.says(ann, "on my way")
    day.at(40)
    await day.says(SHOP, "done")
    await day.says(SHOP, "next")
    # Cy does not answer: the 10-minute grace period runs out.
    day.at(45)
    await day.timers()
    day.at(50)
    await day.timers()
    day.at(51)
    await day.says(SHOP, "undo")
    await day.says(cy, "here")
    day.at(75)
    await day.says(SHOP, "done")
    await day.says(SHOP, "queue")
    await day.says(SHOP, "stats")


if __name__ == "__main__":
    asyncio.run(main())
