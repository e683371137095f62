"""`GET /metrics`: Prometheus's text format, every worker's values, and who may read it.

Access: with METRICS_TOKEN set, a bearer token equal to it (compared in constant
time); without it, only a server whose HOST is a loopback address answers. The peer's
address decides nothing: behind a proxy on the same host every request comes from
loopback.

What a scrape reads: the process-wide metrics of core.metrics (under `serve --workers N`
the files of every worker, prometheus-client's multiprocess mode), this process's pool
gauges refreshed, and the outbox's backlog from one statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from tortoise import connections

from core import metrics
from core.db import DELIVERIES
from core.models import Channel
from core.rules.days import utcnow
from core.services.outbox import backlog
from webhooks.responses import error
from webhooks.state import SETTINGS

log = logging.getLogger(__name__)

PATH = "/metrics"
# prometheus-client's multiprocess mode is on when this is set (cli.metrics_dir).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How often each process writes how many of its pool connections are borrowed.
POOL_SAMPLE_SECONDS = 1.0
# Channels whose backlog is always shown, 0 when empty (the terminal chat sends nothing).
_OUTBOUND = frozenset(c.value for c in Channel if c is not Channel.CONSOLE)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, scrape)
    app.cleanup_ctx.append(_pool_sampler)


class HttpRequests:
    """The request histogram's children, resolved once per route and status.

    A matched route is its own key (aiohttp makes one object per method and resource);
    an unmatched request (404, 405) counts under route "unmatched", by method, so no
    client-chosen path or method becomes a label.
    """

    def __init__(self, histogram: Any) -> None:
        self._histogram = histogram
        self._children: dict[object, dict[int, Any]] = {}

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        route = request.match_info.route
        key: object = route if route.resource is not None else request.method
        by_status = self._children.get(key)
        if by_status is None:
            by_status = self._children[key] = {}
        child = by_status.get(status)
        if child is None:
            child = by_status[status] = self._child(request, status)
        child.observe(seconds)

    def _child(self, request: web.Request, status: int) -> Any:
        route = request.match_info.route
        if route.resource is None:
            method = request.method if request.method in _KNOWN_METHODS else "OTHER"
            return self._histogram.labels(method, "unmatched", str(status))
        return self._histogram.labels(route.method, route.resource.canonical, str(status))


http_requests = HttpRequests(metrics.http_request_seconds)


def _registry() -> CollectorRegistry:
    if MULTIPROCESS_ENV not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def _refusal(request: web.Request) -> web.Response | None:
    settings = request.app[SETTINGS]
    token = settings.metrics_token
    if token is None:
        if settings.host_is_loopback:
            return None
        return error(
            403,
            "Metrics are open without a token only while the server listens on loopback; "
            "set METRICS_TOKEN and scrape with it as a bearer token",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return error(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return None


class _Backlog:
    """The outbox's backlog as read for this scrape, as a collector of two gauges."""

    def __init__(self, by_channel: dict[str, backlog.Backlog]) -> None:
        self._by_channel = by_channel

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "waitlist_outbox_pending",
            "Outbox messages not yet sent or given up on (due, or waiting for a retry)",
            labels=("channel",),
        )
        oldest = GaugeMetricFamily(
            "waitlist_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending outbox message was written (0 when none)",
            labels=("channel",),
        )
        for channel in sorted({*_OUTBOUND, *self._by_channel}):
            waiting = self._by_channel.get(channel)
            pending.add_metric((channel,), waiting.pending if waiting else 0)
            oldest.add_metric((channel,), waiting.oldest_age if waiting else 0.0)
        yield pending
        yield oldest


async def _backlog_text() -> bytes:
    try:
        by_channel = await backlog.pending_by_channel(now=utcnow())
    except Exception as exc:  # the other metrics still answer while the database cannot
        log.warning("metrics: outbox backlog not read: %r", exc)
        return b""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Backlog(by_channel))
    return generate_latest(registry)


async def scrape(request: web.Request) -> web.Response:
    """Prometheus text format (version 0.0.4) of every worker's metrics."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    # The backlog is read first, so the pools are sampled once its connection is back:
    # a scrape reports the connections others hold, never the one it borrowed itself.
    outbox = await _backlog_text()
    _sample_pools()
    # Reading every worker's files is disk work: off the event loop.
    body = await asyncio.to_thread(generate_latest, _registry())
    return web.Response(body=body + outbox, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _sample_pools() -> None:
    for name in ("default", DELIVERIES):
        try:
            pool = getattr(connections.get(name), "_pool", None)
        except Exception:  # noqa: S112 - SQLite has no "deliveries" connection, and no pool
            continue
        if pool is not None:
            metrics.db_pool_in_use.labels(name).set(pool.get_size() - pool.get_idle_size())


async def _pool_sampler(app: web.Application) -> AsyncIterator[None]:
    """Each process writes its pools' use every POOL_SAMPLE_SECONDS (livesum adds up
    the live workers'); a scrape refreshes its own process's first."""

    async def sample() -> None:
        while True:
            _sample_pools()
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample(), name="metrics pool sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
