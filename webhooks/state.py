"""Typed application state."""

from __future__ import annotations

from aiohttp import web

from core.services.line_pages import PageCache
from core.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
# Rendered queue pages of this app's database, checked against line versions on each read.
QUEUE_PAGES = web.AppKey("queue_pages", PageCache)
