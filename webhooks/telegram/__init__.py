"""The Telegram channel: `POST /webhooks/telegram`, PTB behind our aiohttp server.

The route checks the secret token and hands the update to the channel, which handles it
once (handlers.py): what the engine answers goes through the one inbound path
(bot.inbox), as an SMS does. Without TELEGRAM_BOT_TOKEN the channel is off and the route answers 404.

    telegram.setup(app)            # in create_app, before the outbox dispatcher
    telegram.transport_of(app)     # the outbox's Transport for Channel.TELEGRAM, or None
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator

import orjson
from aiohttp import web

from core import metrics
from core.models import Channel
from core.services.outbox.transport import Transport
from webhooks.responses import error, json_response
from webhooks.state import INBOX, SETTINGS
from webhooks.telegram.channel import NotAnUpdate, TelegramChannel

# PTB 22 gives durations (RetryAfter.retry_after, ...) as ints with a deprecation warning
# unless this opts in to its next major version's timedeltas; our code reads timedeltas.
# PTB reads it at each call, so setting it before the first update is enough.
os.environ["PTB_TIMEDELTA"] = "1"

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
CHANNEL = web.AppKey("telegram_channel", TelegramChannel)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    if settings.telegram_bot_token is not None:
        app[CHANNEL] = TelegramChannel(settings)
    app.router.add_post(PATH, receive)
    app.cleanup_ctx.append(_lifecycle)


def transport_of(app: web.Application) -> Transport | None:
    channel = app.get(CHANNEL)
    return channel.transport if channel is not None else None


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    channel = app.get(CHANNEL)
    if channel is None:
        log.info("Telegram channel off: TELEGRAM_BOT_TOKEN is not set (%s answers 404)", PATH)
        yield
        return
    await channel.start(app[INBOX])
    try:
        yield
    finally:
        await channel.stop()


async def receive(request: web.Request) -> web.Response:
    channel = request.app.get(CHANNEL)
    if channel is None:
        return error(404, "Telegram is not configured on this server")
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, channel.secret):
        log.warning("telegram webhook call with a wrong secret token from %s", request.remote)
        metrics.inbound_by[Channel.TELEGRAM.value, metrics.REFUSED_SIGNATURE].inc()
        return error(403, "Forbidden")
    if not channel.ready:
        # Telegram retries a non-2xx delivery, so nothing is lost while we connect.
        return error(503, "The Telegram channel is starting")
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return error(400, f"Malformed JSON: {exc}")
    try:
        update = channel.parse(data)
    except NotAnUpdate as exc:
        return error(400, str(exc))
    # Errors in handling are logged and still answered 200: a failing update would
    # otherwise come back from Telegram again and again for a day.
    fresh = await channel.process(update)
    return json_response({"ok": True, "duplicate": not fresh})
