"""The console screen (issue 15): routes registered by `setup`."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this screen's routes (none yet)."""
