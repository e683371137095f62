"""The web screens: a customer's status page (/s/<token>), the lobby board
(/board/<code>) and the provider console (/console).

Server-rendered with Jinja2, autoescape on, so a name is always text. A little plain
JavaScript (webhooks/static/live.js, no build step, no CDN) makes them live over
server-sent events; every page and form also works with JavaScript off. Handlers stay
thin: parse, call the same core service the text commands call, render the result.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from webhooks.pages import board, console, status

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def setup(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    status.setup(app)
    board.setup(app)
    console.setup(app)
