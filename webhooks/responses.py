"""JSON responses in the API's envelope."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        # Dataclasses (the services' views) serialise natively; UTC datetimes end in Z,
        # as pydantic writes them.
        body=orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def envelope(message: str, data: Any, *, status: int = 200) -> web.Response:
    return json_response({"success": True, "message": message, "data": data}, status=status)


def envelope_raw(message: str, data_json: bytes, *, status: int = 200) -> web.Response:
    """The envelope around `data` that is already JSON (rendered by the database)."""
    head = orjson.dumps({"success": True, "message": message})[:-1]
    return web.Response(
        body=b"".join((head, b',"data":', data_json, b"}")),
        status=status,
        content_type="application/json",
    )


def error(status: int, detail: Any, *, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"detail": detail}, status=status, headers=headers)
