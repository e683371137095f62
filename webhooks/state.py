"""Typed application state."""

from __future__ import annotations

from aiohttp import web

from core.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
