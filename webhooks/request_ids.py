"""Each request's id: the proxy's `X-Request-Id` when it is a plain token, else a new one.

The id is the request's for its whole life: set in a context variable while the
handler runs (so every log line it causes carries it: webhooks.log_filters.RequestIds),
kept on the request for the access log, and sent back in the response's header.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re

from aiohttp import web

HEADER = "X-Request-Id"
# What a proxy may hand us: anything else (too long, spaces, quotes) could forge or
# break a log line, and is replaced.
_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# The id on the request itself: the access log is written after the handler's context ends.
ON_REQUEST = web.RequestKey("request_id", str)


# A new id is this process's random prefix and a count: unique across processes and
# restarts without a system call per request (ids name requests; they guard nothing).
# Workers are spawned, so each draws its own prefix.
_PREFIX = os.urandom(6).hex()
_COUNT = itertools.count(1)


def of(given: str | None) -> str:
    """The id of a request whose `X-Request-Id` header is `given` (None: absent)."""
    if given is not None and _SHAPE.fullmatch(given):
        return given
    return f"{_PREFIX}-{next(_COUNT):x}"


async def send_back(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response carries its request's id, streamed ones too."""
    request_id = request.get(ON_REQUEST)
    if request_id is not None:
        response.headers[HEADER] = request_id
