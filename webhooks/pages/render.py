"""Rendering a page, and an error as a page (the API's errors stay JSON with `detail`)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web


def page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """`template` rendered with `context` (see `html`)."""
    return html(draw(request, template, context), status=status)


def draw(request: web.Request, template: str, context: dict[str, Any]) -> str:
    """`template` rendered with `context`, as text (for a caller that keeps it)."""
    text: str = aiohttp_jinja2.render_string(template, request, context)
    return text


def html(text: str, *, status: int = 200) -> web.Response:
    """A page, never cached by the browser or a proxy (pages show a person's place in
    line)."""
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def problem(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    """An error as a page a person can read (the API's errors stay JSON with `detail`)."""
    return page(request, "problem.html", {"title": title, "detail": detail}, status=status)
