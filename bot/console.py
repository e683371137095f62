"""`waitlist chat --phone ...`: talk to the engine from a terminal, as that phone.

Proactive messages for that phone (your turn, you're next) are printed as the
dispatcher delivers them, through a console Transport.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.engine import handle_message
from core import db
from core.models import Channel
from core.rules.phones import normalize_phone
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.wakeup import Wakeup
from core.settings import Settings


class ConsoleTransport:
    """Delivers console-channel messages by printing them."""

    channel = Channel.CONSOLE

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        self._write(f"[message] {text}")
        return None


async def run_chat(
    *,
    settings: Settings,
    phone: str,
    input_stream: TextIO | None = None,
    output: TextIO | None = None,
) -> None:
    """Read lines until end of input, print each reply. Raises InvalidPhone for a bad phone."""
    phone = normalize_phone(phone)
    source = input_stream or sys.stdin
    sink = output or sys.stdout

    def write(text: str) -> None:
        sink.write(text + "\n")
        sink.flush()

    await db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout)
    ctx = await db.start(settings.database_url, connect_timeout=settings.db_connect_timeout)
    wakeup = Wakeup()
    dispatcher = Dispatcher(
        {Channel.CONSOLE: ConsoleTransport(write)}, wakeup=wakeup, recipient=phone
    )
    try:
        await dispatcher.start()
        write(f"Texting as {phone}. Type HELP for commands; Ctrl-D to quit.")
        while True:
            line = await asyncio.to_thread(source.readline)
            if not line:
                break
            if not line.strip():
                continue
            write(await handle_message(channel=Channel.CONSOLE, phone=phone, text=line))
            wakeup.wake()  # the engine's notices leave now
    finally:
        await dispatcher.stop()
        await ctx.close_connections()
