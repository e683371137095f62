"""The Telegram channel in one process: PTB's Application (no Updater: our aiohttp server
receives the updates), the pacer, the outbox sender, and the one way in for an update
(webhook or long polling): parse, then handle it once (handlers.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.inbox import Inbox
from core import connectivity
from core.db import is_postgres
from core.settings import Settings
from webhooks.telegram.handlers import TelegramBot
from webhooks.telegram.outbound import OUTBOX_MAX_WAIT, TelegramTransport
from webhooks.telegram.pacing import BotPacer

log = logging.getLogger(__name__)

# What the bot asks Telegram for (set-webhook and polling): messages, button presses, and
# the notice that a user blocked or unblocked the bot.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]

_RETRY_START_MAX = 300.0


class NotAnUpdate(ValueError):
    """A body that is JSON but not a Telegram update."""


def api_base(settings: Settings) -> str:
    return settings.telegram_api_base_url.rstrip("/")


def build_application(token: SecretStr, api: str) -> Application[Any, Any, Any, Any, Any, Any]:
    # PTB appends the token to base_url: https://api.telegram.org/bot<token>/<method>.
    return (
        Application.builder()
        .token(token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .updater(None)
        .job_queue(None)
        .build()
    )


class TelegramChannel:
    def __init__(self, settings: Settings, *, pacer: BotPacer | None = None) -> None:
        assert settings.telegram_bot_token is not None
        assert settings.telegram_webhook_secret is not None
        self.secret = settings.telegram_webhook_secret.get_secret_value().encode()
        # A token is "<bot id>:<secret part>"; update_ids count per bot.
        prefix = settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdecimal() else 0
        self.application = build_application(settings.telegram_bot_token, api_base(settings))
        self.pacer = pacer or BotPacer(
            shared=is_postgres(settings.database_url), name=f"telegram:{self.bot_id}"
        )
        self.transport = TelegramTransport(
            self.application.bot,
            self.pacer,
            max_wait=min(OUTBOX_MAX_WAIT, settings.send_budget.pacing_wait),
        )
        self.handlers = TelegramBot(self.application.bot, self.pacer, self.bot_id)
        self.ready = False
        self._starting: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        """Connect to Telegram (getMe), to hand messages to `inbox`. If it cannot be
        reached, the server still starts: the route answers 503, which Telegram retries,
        while we keep trying."""
        self.handlers.inbox = inbox
        try:
            if await self._try_start(first=True):
                return
        except _GiveUp:
            return
        self._starting = asyncio.create_task(self._keep_trying(), name="telegram-start")

    async def _try_start(self, *, first: bool) -> bool:
        try:
            await self.application.initialize()
            await self.application.start()
        except InvalidToken:
            # PTB's message quotes the token: never log it.
            log.error("Telegram channel off: Telegram refused TELEGRAM_BOT_TOKEN")
            self._starting = None
            raise _GiveUp from None
        except (TelegramError, OSError) as exc:
            log.warning(
                "Telegram not reachable%s: %s", " at start-up" if first else "", type(exc).__name__
            )
            return False
        self.ready = True
        log.info("Telegram channel on as @%s", self.application.bot.username)
        return True

    async def _keep_trying(self) -> None:
        delay = 2.0
        with contextlib.suppress(_GiveUp):
            while not await self._try_start(first=False):
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_START_MAX)

    async def stop(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        self.ready = False
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        # Closes the HTTP client even when initialize never got through.
        await self.application.bot.shutdown()

    # --- updates -------------------------------------------------------------------

    def parse(self, data: object) -> Update:
        if not isinstance(data, dict):
            raise NotAnUpdate("the body must be a JSON object")
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise NotAnUpdate("update_id must be an integer")
        try:
            return Update.de_json(data, self.application.bot)
        except Exception as exc:
            # The message could echo the body; the kind of error is enough.
            raise NotAnUpdate(f"not a Telegram update ({type(exc).__name__})") from None

    async def process(self, update: Update) -> bool:
        """Handle `update` once. Returns False for a redelivery, which changes nothing.

        Inline, not through PTB's update_queue: an update acknowledged with a 200 but
        still waiting in memory would be lost if this process stopped.
        """
        try:
            return await self.handlers.handle(update)
        except Exception as exc:
            if connectivity.is_outage(exc):
                # Answered 503: Telegram delivers the update again, and it comes back a
                # redelivery if it was recorded before the database went away.
                raise
            await self.handlers.trouble(update, exc)
            return True


class _GiveUp(Exception):
    """Starting will not succeed by retrying (the token was refused)."""
