"""Turning request bodies, queries and path parts into validated models, or a 422."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class RequestInvalid(Exception):
    """The request cannot be read; `detail` says why."""

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


def errors_of(exc: ValidationError, *, location: str | None = None) -> list[dict[str, Any]]:
    """Pydantic errors in the API's error shape: FastAPI's `detail` list of loc/msg/type."""
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = [location, *err["loc"]] if location else list(err["loc"])
        out.append({"loc": loc, "msg": err["msg"], "type": err["type"]})
    return out


async def body_of(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    if not raw:
        raise RequestInvalid([{"loc": ["body"], "msg": "Field required", "type": "missing"}])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestInvalid(
            [{"loc": ["body"], "msg": f"Invalid JSON: {exc.msg}", "type": "json_invalid"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestInvalid(
            [{"loc": ["body"], "msg": "Body must be a JSON object", "type": "model_type"}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestInvalid(errors_of(exc, location="body")) from None


def query_of(request: web.Request, model: type[M]) -> M:
    # A repeated key keeps its last value (the contract of every query parameter).
    data = {key: request.query.getall(key)[-1] for key in request.query}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestInvalid(errors_of(exc, location="query")) from None


def path_of(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.match_info))
    except ValidationError as exc:
        raise RequestInvalid(errors_of(exc, location="path")) from None
