"""An endpoint's declaration: the router and the OpenAPI spec are both built from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None
    errors: tuple[int, ...] = field(default=(422,))
    # Honours the Idempotency-Key header (webhooks.admin.idempotent).
    idempotent: bool = False
    # A success answered with a body other than JSON (its model is then None).
    media_type: str | None = None
