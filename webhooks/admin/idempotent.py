"""The `Idempotency-Key` header on the admin API's creates (core.services.idempotency).

A create handler validates its body, then hands the create to `respond`: without the
header the create simply runs; with it, the first answer for the key is recorded with
the create and given again to a retry with the same body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from core.rules.idempotency import HEADER, key_problem, request_hash
from core.services import idempotency
from webhooks.validation import RequestInvalid

# Set on an answer given again for a key, as Stripe and others do.
REPLAYED = "Idempotent-Replayed"


async def respond(
    request: web.Request, scope: str, create: Callable[[], Awaitable[web.Response]]
) -> web.Response:
    """Answer `request` with `create()`, once per idempotency key if it has one.

    Call it after the body was validated: the body is then JSON."""
    key = request.headers.get(HEADER)
    if key is None:
        return await create()
    problem = key_problem(key)
    if problem is not None:
        raise RequestInvalid([{"loc": ["header", HEADER], "msg": problem, "type": "value_error"}])

    async def outcome() -> idempotency.Outcome:
        response = await create()
        body = response.body
        assert isinstance(body, bytes), "a create answers with a JSON body"
        return response.status, body.decode()

    answer = await idempotency.create_once(
        scope=scope,
        key=key,
        request_hash=request_hash(orjson.loads(await request.read())),
        create=outcome,
    )
    return web.Response(
        body=answer.body.encode(),
        status=answer.status,
        content_type="application/json",
        headers={REPLAYED: "true"} if answer.replayed else None,
    )


def scope_of(method: str, path: str) -> str:
    """The scope a key is used in: one key, one endpoint."""
    return f"{method} {path.rstrip('/')}"
