"""Cross-cutting concerns: each request's id and measure, domain errors to HTTP in one
place, and admin authentication."""

from __future__ import annotations

import asyncio
import hmac
import logging
from time import perf_counter

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from core import connectivity
from core.errors import (
    AlreadyExists,
    DomainError,
    InProgress,
    InvalidInput,
    InvalidRange,
    InvalidTransition,
    NoRoom,
    NotFound,
    UnknownLanguage,
)
from core.rules.phones import mask_phones_in
from core.services import line_events
from webhooks import request_ids
from webhooks.metrics import http_requests
from webhooks.responses import error
from webhooks.state import LINE_HUB, RETRY_LOST_CONNECTIONS, SETTINGS
from webhooks.validation import RequestInvalid, errors_of

log = logging.getLogger(__name__)

# By the nearest listed class of the error: a refinement (TooEarly, TooFarAhead) answers
# as the kind of refusal it is.
_STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    AlreadyExists: 400,
    InvalidTransition: 400,
    InvalidInput: 422,
    InProgress: 409,
    InvalidRange: 400,
    NoRoom: 400,
    UnknownLanguage: 400,
}

# Paths that stay open without the admin token: docs, health, the channel webhooks,
# which authenticate with their own signatures, and the web screens, which check their
# own links, keys and sessions (webhooks.pages).
_PUBLIC_PREFIXES = (
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    # Its own rule: METRICS_TOKEN, or a loopback-only listener (webhooks.metrics).
    "/metrics",
    "/static/",
    "/webhooks/",
    "/s/",
    "/board/",
    "/console",
)

# Another transaction's change collided with this one and PostgreSQL gave way on ours
# (rare: e.g. two deletions each spanning several lines, see migration 0008). Nothing
# was written; the same request succeeds when sent again.
_COLLIDED = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# A statement ran past DB_STATEMENT_TIMEOUT (or was cancelled by an operator): its
# transaction was rolled back, and the connection goes back to the pool usable.
_CANCELLED = (asyncpg.QueryCanceledError,)


def _status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in _STATUS_OF:
            return _STATUS_OF[kind]
    return 400


def _client_hung_up(request: web.Request, exc: BaseException) -> bool:
    """The client closed its connection (say, mid-body): nobody is left to answer.

    aiohttp raises ConnectionResetError (ClientConnectionResetError) from a read of
    the body of a dropped client; the connection is gone, which tells it apart from a
    reset anywhere else.
    """
    transport = request.transport
    return isinstance(exc, ConnectionResetError) and (transport is None or transport.is_closing())


async def _once_more_if_nothing_was_written(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Run the handler; if it lost its database connection before anything could have
    been committed, run it once more (the pool opens a fresh connection).

    Only for the admin API: a channel's handler can have sent a message before it
    failed, and Twilio and Telegram deliver again on their own. Only where the app
    says its connections note commits (RETRY_LOST_CONNECTIONS).
    """
    if request.path.startswith("/webhooks/") or not request.app.get(
        RETRY_LOST_CONNECTIONS, False
    ):
        return await handler(request)
    with connectivity.watching_commits() as watch:
        try:
            return await handler(request)
        except Exception as exc:
            if watch.may_have_committed or not connectivity.is_outage(exc):
                raise
            log.warning(
                "database connection lost before %s %s wrote anything (%s); retrying once",
                request.method,
                mask_phones_in(request.path),
                connectivity.describe(exc),
            )
    return await handler(request)


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: the request's id for its log lines and its response
    (webhooks.request_ids), and its duration and final status in the request histogram.
    A request whose client went away (cancelled) is not measured."""
    request_id = request_ids.of(request.headers.get(request_ids.HEADER))
    request[request_ids.ON_REQUEST] = request_id
    token = request_ids.REQUEST_ID.set(request_id)
    start = perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect, raised past error_middleware
        http_requests.observe(request, exc.status, perf_counter() - start)
        raise
    finally:
        request_ids.REQUEST_ID.reset(token)
    http_requests.observe(request, response.status, perf_counter() - start)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _once_more_if_nothing_was_written(request, handler)
    except DomainError as exc:
        return error(_status_of(exc), exc.message)
    except RequestInvalid as exc:
        return error(422, exc.detail)
    except ValidationError as exc:
        return error(422, errors_of(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() in {"allow", "www-authenticate"}
        }
        return error(exc.status, exc.reason, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        where = mask_phones_in(request.path)
        if _client_hung_up(request, exc):
            log.info("client closed the connection during %s %s", request.method, where)
            return error(400, "The connection closed before the request was complete")
        if connectivity.is_outage(exc):
            log.warning("database unavailable for %s %s: %r", request.method, where, exc)
            return error(503, "Database unavailable, try again shortly")
        if connectivity.caused_by(exc, _CANCELLED):
            log.warning("database statement cancelled for %s %s: %r", request.method, where, exc)
            return error(
                503, "The database took too long to answer; the request was stopped, try again"
            )
        if connectivity.caused_by(exc, _COLLIDED):
            log.warning("concurrent change collided for %s %s: %r", request.method, where, exc)
            return error(503, "A concurrent change got in the way; nothing was saved, try again")
        log.exception("unhandled error for %s %s", request.method, where)
        return error(500, "Internal server error")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[SETTINGS].admin_api_token
    if token is None or request.path.startswith(_PUBLIC_PREFIXES):
        return await handler(request)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return error(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return await handler(request)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def lines_changed_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """A request that may write (every entry point: the admin API, the SMS and Telegram
    webhooks, the pages' forms) tells the screens the lines it changed once it is done,
    its transactions committed (core.services.line_events); reads pay nothing."""
    if request.method in _READS:
        return await handler(request)
    with line_events.collecting(request.app[LINE_HUB].publish):
        return await handler(request)
