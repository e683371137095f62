"""`waitlist chat --phone ...`: talk to the engine from a terminal, as that phone.

Each line goes through the one inbound path (bot.inbox), as an SMS or a Telegram
message does: recorded, flood-limited, answered, its reply stored. Proactive messages
for that phone (your turn, you're next) are printed as the dispatcher delivers them,
through a console Transport.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from typing import TextIO

from bot import inbox, replies
from core import db
from core.models import Channel
from core.rules.days import utcnow
from core.rules.phones import normalize_phone
from core.services.deliveries import PendingReplies
from core.services.grace_worker import GraceWorker
from core.services.line_ranks import RankCache
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.wakeup import Wakeup
from core.settings import Settings

POLICY = inbox.ChannelPolicy(
    slow_down="You are sending messages too fast. Please wait a minute, then type HELP.",
    sorry=replies.sorry(),
)


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
    # Timers fire from here too, for every phone: the console may be the only process.
    timers = GraceWorker(wakeup=wakeup, poll_interval=settings.grace_poll_interval)
    try:
        await dispatcher.start()
        await timers.start()
        async with PendingReplies().writing() as stored:
            path = inbox.Inbox(
                replies=stored,
                per_minute=settings.inbound_per_minute,
                ranks=RankCache(),
                wakeup=wakeup,
                link_base=settings.public_base_url,
                sms_price=settings.sms_price_per_segment,
            )
            write(f"Texting as {phone}. Type HELP for commands; Ctrl-D to quit.")
            while True:
                line = await asyncio.to_thread(source.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                message = inbox.Message(
                    channel=Channel.CONSOLE,
                    phone=phone,
                    text=line,
                    delivery_id=f"console:{uuid.uuid4().hex}",
                    now=utcnow(),
                )
                outcome = await path.receive(message, policy=POLICY)
                if outcome.reply:
                    write(outcome.reply)
    finally:
        await timers.stop()
        await dispatcher.stop()
        await ctx.close_connections()
