"""`waitlist chat`: a console conversation, with proactive messages shown as they come."""

from __future__ import annotations

import asyncio
import contextlib
import io
import queue
from collections.abc import AsyncIterator

from bot.console import run_chat
from bot.engine import handle_message
from core import db
from core.models import Channel, InboundMessage
from core.services import service_accounts, users
from core.settings import Settings

ANN, BOB, SPA = "+14155550101", "+14155550102", "+14155550100"


class Keyboard:
    """Lines typed one at a time; None is Ctrl-D."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()

    def type(self, line: str | None) -> None:
        self.lines.put(line)

    def readline(self) -> str:
        line = self.lines.get(timeout=10)
        return "" if line is None else line + "\n"


class Screen(io.StringIO):
    """What the console printed; lets a test wait for a line to appear."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)

    async def shows(self, needle: str) -> None:
        while needle not in self.getvalue():
            self.changed.clear()
            await self.changed.wait()


async def _until(screen: Screen, needle: str, within: float = 3.0) -> None:
    await asyncio.wait_for(screen.shows(needle), within)


async def test_a_console_chat_registers_joins_and_shows_the_turn_message(database_url):
    await db.migrate(database_url)
    ctx = await db.start(database_url)
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await ctx.close_connections()

    keyboard, screen = Keyboard(), Screen()
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    chat = asyncio.create_task(
        run_chat(settings=settings, phone="+1 (415) 555-0101", input_stream=keyboard, output=screen)
    )
    try:
        await _until(screen, "Texting as +14155550101")
        keyboard.type("join")
        await _until(screen, "What's your name?")
        keyboard.type("")
        keyboard.type("Ann Bell")
        await _until(screen, "You're in line at Zen Spa today: #1")
        # The provider, elsewhere, calls the next person.
        reply = (await handle_message(channel=Channel.SMS, phone=SPA, text="next")).text
        assert "Called Ann B." in reply
        await _until(screen, "[message] It's your turn at Zen Spa!", within=1.0)
        keyboard.type("leave")
        await _until(screen, "You've left the line")
    finally:
        keyboard.type(None)
        await asyncio.wait_for(chat, 5)
    assert screen.getvalue().count("[message]") == 1


async def test_console_lines_take_the_one_inbound_path_recorded_with_their_replies(database_url):
    keyboard, screen = Keyboard(), Screen()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, inbound_per_minute=2
    )
    chat = asyncio.create_task(
        run_chat(settings=settings, phone=ANN, input_stream=keyboard, output=screen)
    )
    try:
        await _until(screen, "Texting as")
        keyboard.type("help")
        await _until(screen, "JOIN")
        keyboard.type("status")
        await _until(screen, "not in any line")
        # The third line in a minute is over the flood limit, as on SMS and Telegram.
        keyboard.type("help")
        await _until(screen, "too fast")
    finally:
        keyboard.type(None)
        await asyncio.wait_for(chat, 5)
    ctx = await db.start(database_url)
    try:
        rows = await InboundMessage.filter(channel=Channel.CONSOLE.value).order_by("id")
        assert [row.phone for row in rows] == [ANN, ANN, ANN]
        assert all(row.external_id.startswith("console:") for row in rows)
        assert "too fast" in (rows[-1].reply or "")
        assert "JOIN" in (rows[0].reply or "")
    finally:
        await ctx.close_connections()



@contextlib.asynccontextmanager
async def chatting(database_url: str, phone: str) -> AsyncIterator[tuple[Keyboard, Screen]]:
    """`waitlist chat` running as `phone`, until the block ends (then Ctrl-D)."""
    keyboard, screen = Keyboard(), Screen()
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    chat = asyncio.create_task(
        run_chat(settings=settings, phone=phone, input_stream=keyboard, output=screen)
    )
    try:
        await _until(screen, "Texting as")
        yield keyboard, screen
    finally:
        keyboard.type(None)
        await asyncio.wait_for(chat, 5)


async def test_the_providers_console_queue_marks_a_customer_who_confirmed(database_url):
    await db.migrate(database_url)
    ctx = await db.start(database_url)
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await handle_message(channel=Channel.SMS, phone=ANN, text="join")
    await handle_message(channel=Channel.SMS, phone=SPA, text="next")
    await ctx.close_connections()

    async with chatting(database_url, SPA) as (keyboard, screen):
        keyboard.type("queue")
        await _until(screen, "Now: Ann B. (***0101).")
        # Ann, elsewhere, says she is on her way: the provider hears it and QUEUE marks her.
        reply = (await handle_message(channel=Channel.SMS, phone=ANN, text="omw")).text
        assert "knows you're coming" in reply
        await _until(screen, "[message] Ann B. (***0101) says they're coming.", within=2.0)
        keyboard.type("queue")
        await _until(screen, "Now: Ann B. (***0101) coming.")


async def test_a_customer_at_the_console_moves_back_with_late_and_says_how_far_away(
    database_url,
):
    await db.migrate(database_url)
    ctx = await db.start(database_url)
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await users.create_user(name="Bob Carter", phone=BOB)
    await handle_message(channel=Channel.SMS, phone=ANN, text="join")
    await handle_message(channel=Channel.SMS, phone=BOB, text="join")
    await ctx.close_connections()

    async with chatting(database_url, ANN) as (keyboard, screen):
        keyboard.type("running late")
        await _until(screen, "Zen Spa: you're now #2, 1 ahead")
        keyboard.type("I'm 10 min away")
        await _until(screen, "Got it, 10 min away.")
        await _until(screen, "We'll text you when it's time to head over.")


async def test_the_provider_closes_and_opens_todays_joins_from_the_console(database_url):
    await db.migrate(database_url)
    ctx = await db.start(database_url)
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await ctx.close_connections()

    async with chatting(database_url, SPA) as (keyboard, screen):
        keyboard.type("close")
        await _until(screen, "Closed: no new joins today.")
        refused = (await handle_message(channel=Channel.SMS, phone=ANN, text="join")).text
        assert "closed for joins today" in refused
        keyboard.type("open")
        await _until(screen, "Open again")
        joined = (await handle_message(channel=Channel.SMS, phone=ANN, text="join")).text
        assert "in line" in joined


class PatientKeyboard(Keyboard):
    """A keyboard whose user waits as long as a grace period takes."""

    def readline(self) -> str:
        line = self.lines.get(timeout=120)
        return "" if line is None else line + "\n"


async def test_a_console_customer_who_does_not_confirm_is_reminded_then_their_spot_closes(
    database_url,
):
    await db.migrate(database_url)
    ctx = await db.start(database_url)
    # A second of grace: the console's own worker fires the timers, on the real clock.
    await service_accounts.create_service_account(
        phone=SPA, name="Zen Spa", code="SPA", grace_minutes=0.02
    )
    await users.create_user(name="Ann Bell", phone=ANN)
    await ctx.close_connections()

    keyboard, screen = PatientKeyboard(), Screen()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, grace_poll_interval=0.1
    )
    chat = asyncio.create_task(
        run_chat(settings=settings, phone=ANN, input_stream=keyboard, output=screen)
    )
    try:
        await _until(screen, "Texting as +14155550101")
        keyboard.type("join")
        await _until(screen, "You're in line at Zen Spa today: #1")
        reply = (await handle_message(channel=Channel.SMS, phone=SPA, text="next")).text
        assert "Called Ann B." in reply
        await _until(screen, "[message] It's your turn at Zen Spa!", within=30)
        await _until(screen, "[message] Reminder: it's your turn at Zen Spa.", within=30)
        await _until(screen, "[message] Your spot at Zen Spa was closed", within=30)
        keyboard.type("status")
        await _until(screen, "not in any line", within=30)
    finally:
        keyboard.type(None)
        await asyncio.wait_for(chat, 30)
    assert screen.getvalue().count("[message] Reminder:") == 1
