"""Rendering a page, and an error as a page (the API's errors stay JSON with `detail`)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web


def page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """`template` rendered with `context`, never cached by the browser or a proxy (pages
    show a person's place in line)."""
    response: web.Response = aiohttp_jinja2.render_template(
        template, request, context, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def problem(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    """An error as a page a person can read (the API's errors stay JSON with `detail`)."""
    return page(request, "problem.html", {"title": title, "detail": detail}, status=status)
