"""`waitlist telegram set-webhook` and `waitlist telegram poll`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from telegram import Bot, BotCommand
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from core import db
from core.services import line_events
from core.settings import Settings
from webhooks.state import LINE_HUB
from webhooks.telegram import CHANNEL, PATH
from webhooks.telegram.channel import ALLOWED_UPDATES, api_base
from webhooks.telegram.outbound import retry_after_seconds

log = logging.getLogger(__name__)

# The menu Telegram shows after "/"; the words are the engine's own commands.
COMMANDS = [
    BotCommand("join", "Get in line (e.g. /join SPA tomorrow)"),
    BotCommand("status", "Your place in line"),
    BotCommand("leave", "Leave the line"),
    BotCommand("here", "On my way, after your turn is called"),
    BotCommand("why", "Why my place in line is where it is"),
    BotCommand("late", "Running late: move back (e.g. /late 20)"),
    BotCommand("away", "How far away I am (e.g. /away 20)"),
    BotCommand("help", "What you can do"),
    BotCommand("queue", "Providers: today's line"),
    BotCommand("next", "Providers: call the next person"),
    BotCommand("done", "Providers: finish the current visit"),
    BotCommand("noshow", "Providers: they did not come"),
    BotCommand("undo", "Providers: undo the last next/done/noshow (10 min)"),
    BotCommand("stats", "Providers: today's figures (/stats week: 7 days)"),
    BotCommand("close", "Providers: stop today's joins (those waiting stay)"),
    BotCommand("open", "Providers: take joins again today"),
    BotCommand("delay", "Providers: running late (/delay 20 [note]; /delay 0 ends it)"),
    BotCommand("stop", "No more updates from us"),
]
POLL_TIMEOUT = 25


def _bot(settings: Settings) -> Bot:
    if settings.telegram_bot_token is None:
        raise SystemExit("waitlist: TELEGRAM_BOT_TOKEN is not set")
    api = api_base(settings)
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
    )


def webhook_url(settings: Settings) -> str:
    base = (settings.public_base_url or "").rstrip("/")
    if not base:
        raise SystemExit("waitlist: PUBLIC_BASE_URL is not set; Telegram needs it to reach us")
    if not base.startswith("https://"):
        raise SystemExit("waitlist: PUBLIC_BASE_URL must start with https:// for Telegram")
    return base + PATH


async def set_webhook(settings: Settings) -> str:
    """Point Telegram at PUBLIC_BASE_URL/webhooks/telegram with our secret; returns the URL."""
    bot = _bot(settings)
    url = webhook_url(settings)
    assert settings.telegram_webhook_secret is not None  # Settings require it with a token
    try:
        async with bot:
            await bot.set_webhook(
                url,
                secret_token=settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
            await bot.set_my_commands(COMMANDS)
    except InvalidToken:
        # PTB's message quotes the token.
        raise SystemExit("waitlist: Telegram refused TELEGRAM_BOT_TOKEN") from None
    except TelegramError as exc:
        raise SystemExit(f"waitlist: Telegram refused the webhook: {exc.message}") from None
    return url


async def poll(app: web.Application, *, long_poll_seconds: int = POLL_TIMEOUT) -> None:
    """Fetch updates by long polling and handle them exactly as the webhook does.

    Runs until cancelled. The app must have been started (its cleanup contexts run).
    """
    channel = app[CHANNEL]
    bot = channel.application.bot
    offset: int | None = None
    delay = 1.0
    webhook_deleted = False
    while True:
        if not channel.ready:
            # Still connecting to Telegram (the channel retries on its own).
            await asyncio.sleep(delay)
            continue
        try:
            if not webhook_deleted:
                # Telegram refuses getUpdates while a webhook is set.
                await bot.delete_webhook()
                webhook_deleted = True
            updates = await bot.get_updates(
                offset=offset,
                timeout=long_poll_seconds,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=long_poll_seconds + 10,
            )
        except RetryAfter as exc:
            await asyncio.sleep(retry_after_seconds(exc))
            continue
        except Conflict:
            log.error("another process is polling this bot, or a webhook was set again")
            webhook_deleted = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
            continue
        except TelegramError as exc:
            log.warning("polling Telegram failed: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
            continue
        delay = 1.0
        for update in updates:
            # No request around it: the lines it changes are published here, as the
            # middleware does for a webhook's (webhooks.middleware).
            with line_events.collecting(app[LINE_HUB].publish):
                await channel.process(update)
            offset = update.update_id + 1


async def run_poll(settings: Settings) -> None:
    """The app without an HTTP listener, fed by long polling: Telegram for local
    development, no public URL needed. Ctrl-C stops it."""
    from webhooks.app import create_app

    if settings.telegram_bot_token is None:
        raise SystemExit("waitlist: TELEGRAM_BOT_TOKEN is not set")
    await db.migrate(settings.database_url, connect_timeout=settings.db_connect_timeout)
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    task = asyncio.create_task(poll(app), name="telegram-poll")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    log.info("polling Telegram for updates; Ctrl-C to stop")
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await runner.cleanup()
