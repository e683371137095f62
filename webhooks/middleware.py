"""Cross-cutting concerns: domain errors to HTTP in one place, and admin authentication."""

from __future__ import annotations

import asyncio
import hmac
import logging

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError
from tortoise.exceptions import DBConnectionError

from core.errors import (
    AlreadyExists,
    DomainError,
    InProgress,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from core.rules.phones import mask_phones_in
from webhooks.responses import error
from webhooks.state import SETTINGS
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
}

# Paths that stay open without the admin token: docs, health, and the channel
# webhooks, which authenticate with their own signatures.
_PUBLIC_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/healthz", "/static/", "/webhooks/")

_UNAVAILABLE = (
    DBConnectionError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    # The database was dropped or renamed under a running server.
    asyncpg.InvalidCatalogNameError,
)


# Another transaction's change collided with this one and PostgreSQL gave way on ours
# (rare: e.g. two deletions each spanning several lines, see migration 0008). Nothing
# was written; the same request succeeds when sent again.
_COLLIDED = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in _STATUS_OF:
            return _STATUS_OF[kind]
    return 400


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
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
        if _caused_by(exc, _UNAVAILABLE):
            log.warning("database unavailable for %s %s: %r", request.method, where, exc)
            return error(503, "Database unavailable, try again shortly")
        if _caused_by(exc, _COLLIDED):
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
