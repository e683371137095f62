"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core import db
from core.settings import Settings
from webhooks import admin, docs, logs, sms, telegram
from webhooks.middleware import auth_middleware, error_middleware
from webhooks.state import SETTINGS

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    logs.install_phone_masking()
    app.cleanup_ctx.append(_database)
    docs.setup(app)
    admin.setup(app)
    telegram.setup(app)
    sms.setup(app)
    app.router.add_get("/healthz", _healthz)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    # Tortoise is started here and its context closed here, not with its aiohttp
    # helper, which leaves connections open when setup and cleanup run in different tasks.
    ctx = await db.start(app[SETTINGS].database_url)
    try:
        yield
    finally:
        await ctx.close_connections()


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
