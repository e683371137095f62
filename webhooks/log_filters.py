"""The log filters the app installs: phone numbers never reach a log in full, a
library's failure the app expects (a malformed request, a database outage) takes one
line instead of a traceback, and a line written for a request carries its id."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

from core import connectivity
from core.rules import status_tokens
from core.rules.phones import mask_phones_in
from webhooks import request_ids


class MaskPhones(logging.Filter):
    """Rewrites a record's message with every phone-like number masked, and every
    status link's token (a request line of /s/<token> opens that customer's page)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = status_tokens.mask_links_in(mask_phones_in(message))
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class BadRequestsInOneLine(logging.Filter):
    """aiohttp logs each malformed request ("Error handling request from ...") at ERROR
    with a traceback, so any client could fill the log: make it one WARNING line, what
    was wrong included (phones masked, cut to a length). Other errors pass untouched."""

    MAX_CHARS = 200

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            what = mask_phones_in(" ".join(str(exc).split()))[: self.MAX_CHARS]
            record.msg, record.args = "%s: %s", (record.getMessage(), what)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class OutagesInOneLine(logging.Filter):
    """asyncpg's pool logs each failed attempt to reopen its connections with a
    traceback; while the database is down that is one line per attempt, reason included."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and connectivity.is_outage(exc):
            record.msg, record.args = "%s: %s", (record.getMessage(), connectivity.describe(exc))
            record.exc_info, record.exc_text = None, None
        return True


class RequestIds(logging.Filter):
    """Sets `request_id` on every record: the id of the request being handled (None
    outside one). A handler's filter, so it sees every logger's records; the access
    log, written once the request's context has ended, passes the id itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_ids.REQUEST_ID.get()
        return True


def install() -> None:
    """The one-line filters for libraries' failures, then phone masking."""
    pool = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, OutagesInOneLine) for f in pool.filters):
        pool.addFilter(OutagesInOneLine())
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, BadRequestsInOneLine) for f in server.filters):
        # Before the masking filter, which then sees the message this one writes.
        server.filters.insert(0, BadRequestsInOneLine())
    install_phone_masking()


def install_phone_masking() -> None:
    # The access log prints request lines, which carry phones in paths and queries.
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskPhones) for f in logger.filters):
            logger.addFilter(MaskPhones())
