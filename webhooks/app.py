"""The application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from bot.inbox import Inbox
from core import connectivity, db
from core.models import Channel
from core.services import pruning
from core.services.deliveries import PendingReplies
from core.services.grace_worker import GraceWorker
from core.services.line_pages import PageCache
from core.services.line_ranks import RankCache
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.transport import Transport
from core.services.outbox.wakeup import Wakeup
from core.services.pending_links import PendingLinks
from core.services.prune_worker import PruneWorker
from core.settings import Settings
from webhooks import admin, docs, log_filters, metrics, pages, request_ids, sms, telegram
from webhooks.live import LineHub
from webhooks.middleware import (
    auth_middleware,
    error_middleware,
    lines_changed_middleware,
    request_middleware,
)
from webhooks.responses import error
from webhooks.state import (
    INBOX,
    LINE_HUB,
    OUTBOX_WAKEUP,
    PENDING_LINKS,
    QUEUE_PAGES,
    RANKS,
    RETRY_LOST_CONNECTIONS,
    SETTINGS,
    STATUS_VIEWS,
)
from webhooks.status_views import StatusViews

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# /readyz answers 503 when the database takes longer than this to answer SELECT 1.
READY_TIMEOUT_SECONDS = 1.0


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[
            request_middleware,
            error_middleware,
            auth_middleware,
            lines_changed_middleware,
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[RETRY_LOST_CONNECTIONS] = not settings.is_sqlite
    log_filters.install()
    app.cleanup_ctx.append(_outbox_wakeup)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_line_caches)
    app.cleanup_ctx.append(_line_hub)
    # Before the channels: they hand it their messages, and it stores the last replies
    # after they have stopped.
    app.cleanup_ctx.append(_inbox)
    # Once the database is up: it samples the pools.
    metrics.setup(app)
    app.on_response_prepare.append(request_ids.send_back)
    docs.setup(app)
    admin.setup(app)
    telegram.setup(app)
    sms.setup(app)
    pages.setup(app)
    # After the channels: cleanup runs in reverse, so the dispatcher stops before
    # the clients it sends through are closed.
    if settings.outbox_dispatcher:
        app.cleanup_ctx.append(_outbox_dispatcher)
    app.cleanup_ctx.append(_prune_worker)
    # Last: it stops first, before the dispatcher that sends what it writes.
    app.cleanup_ctx.append(_grace_worker)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    for route in app.router.routes():
        # aiohttp takes the handler only as an argument of each add_route; one place
        # here covers every route, those of the channels and the docs included.
        route._expect_handler = _expect_within_limit
    return app


async def _expect_within_limit(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue`: a body announced over the limit is refused at once (413)
    instead of invited with `100 Continue` and refused once sent."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return error(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
    expect = request.headers.get(hdrs.EXPECT, "")
    if expect.lower() != "100-continue":
        return error(417, f"Unknown Expect: {expect}")
    if request.version == HttpVersion11:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the response proper has not started
    return None


async def _database(app: web.Application) -> AsyncIterator[None]:
    # Tortoise is started here and its context closed here, not with its aiohttp
    # helper, which leaves connections open when setup and cleanup run in different tasks.
    settings = app[SETTINGS]
    ctx = await db.start(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=settings.db_statement_timeout,
    )
    try:
        yield
    finally:
        await ctx.close_connections()


async def _outbox_wakeup(app: web.Application) -> AsyncIterator[None]:
    # Per app: a dispatcher hears only its own app's entry points.
    app[OUTBOX_WAKEUP] = Wakeup()
    yield


async def _line_caches(app: web.Application) -> AsyncIterator[None]:
    # Per app, not per module: each app has its own database, and versions repeat.
    app[QUEUE_PAGES] = PageCache()
    app[RANKS] = RankCache()
    app[PENDING_LINKS] = PendingLinks()
    yield


async def _line_hub(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = LineHub(
        poll_interval=settings.line_poll_interval,
        listen=db.listen_params(settings.database_listen_url or settings.database_url),
    )
    app[LINE_HUB] = hub

    async def end_streams(_: web.Application) -> None:
        # Before the server waits for open requests: an event stream never ends itself.
        hub.shut()

    app.on_shutdown.append(end_streams)
    app[STATUS_VIEWS] = views = StatusViews(hub, ranks=app[RANKS], pending=app[PENDING_LINKS])
    await hub.start()
    try:
        yield
    finally:
        views.close()
        await hub.stop()


async def _inbox(app: web.Application) -> AsyncIterator[None]:
    async with PendingReplies(links=app[PENDING_LINKS]).writing() as replies:
        app[INBOX] = Inbox(
            replies=replies,
            per_minute=app[SETTINGS].inbound_per_minute,
            ranks=app[RANKS],
            wakeup=app[OUTBOX_WAKEUP],
            link_base=app[SETTINGS].public_base_url,
            sms_price=app[SETTINGS].sms_price_per_segment,
        )
        yield


async def _outbox_dispatcher(app: web.Application) -> AsyncIterator[None]:
    transports: dict[Channel, Transport] = {}
    for channel, transport in (
        (Channel.SMS, sms.transport_of(app)),
        (Channel.TELEGRAM, telegram.transport_of(app)),
        (Channel.WHATSAPP, sms.whatsapp_transport_of(app)),
    ):
        if transport is not None:
            transports[channel] = transport
    dispatcher = Dispatcher(
        transports,
        wakeup=app[OUTBOX_WAKEUP],
        send_timeout=app[SETTINGS].outbox_send_timeout,
        fallback=Channel.SMS if app[SETTINGS].fallback_to_sms else None,
    )
    await dispatcher.start()
    log.info(
        "outbox dispatcher delivering on: %s", ", ".join(sorted(transports)) or "no channel"
    )
    try:
        yield
    finally:
        await dispatcher.stop()


async def _prune_worker(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    worker = PruneWorker(
        keep=settings.retention,
        interval=settings.prune_interval,
        lock=db.listen_params(settings.database_url),
        pacing=pruning.Pacing(settings.prune_pause_ratio),
    )
    worker.start()
    try:
        yield
    finally:
        await worker.stop()


async def _grace_worker(app: web.Application) -> AsyncIterator[None]:
    worker = GraceWorker(
        wakeup=app[OUTBOX_WAKEUP],
        poll_interval=app[SETTINGS].grace_poll_interval,
        publish=app[LINE_HUB].publish,
    )
    await worker.start()
    try:
        yield
    finally:
        await worker.stop()


async def _healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers HTTP, whatever the database does."""
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers a query within READY_TIMEOUT_SECONDS."""
    try:
        await asyncio.wait_for(db.ping(), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return error(503, f"Database did not answer within {READY_TIMEOUT_SECONDS:g} s")
    except Exception as exc:
        if connectivity.is_outage(exc):
            return error(503, "Database unavailable")
        log.exception("readiness check failed")
        return error(503, "Database check failed")
    return web.json_response({"status": "ready"})
