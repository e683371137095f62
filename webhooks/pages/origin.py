"""Every state-changing request of the pages comes from the pages' own origin.

Browsers send `Origin` with every POST (and `Referer` where a privacy setting drops
it); a form posted from another site carries that site's origin and is refused with
403 before anything is read or changed. A POST with neither header is refused too:
the pages are for browsers, and the admin API is the way in for scripts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from core.settings import Settings


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(request: web.Request, settings: Settings) -> set[str]:
    """The origin PUBLIC_BASE_URL names, and the one this request was addressed to (the
    same when the proxy passes Host on)."""
    allowed = {str(request.url.origin()).lower()}
    if settings.public_base_url:
        named = _origin_of(settings.public_base_url)
        if named:
            allowed.add(named)
    return allowed


def is_same_origin(request: web.Request, settings: Settings) -> bool:
    sent = request.headers.get("Origin")
    if sent is None or sent == "null":
        referer = request.headers.get("Referer")
        sent = _origin_of(referer) if referer else None
    return sent is not None and sent.lower() in allowed_origins(request, settings)


def require_same_origin(request: web.Request, settings: Settings) -> None:
    """Raise 403 unless the request comes from the pages' own origin."""
    if not is_same_origin(request, settings):
        raise web.HTTPForbidden(reason="Cross-origin request refused")
