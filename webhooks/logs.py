"""Logging set-up: phone numbers never reach a log in full."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from core import connectivity
from core.rules.phones import mask_phones_in
from core.settings import AccessLogMode

# A request slower than this is a problem worth a line even when it succeeded.
SLOW_REQUEST_SECONDS = 1.0


class MaskPhones(logging.Filter):
    """Rewrites a record's message with every phone-like number masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones_in(message)
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


def install_filters() -> None:
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


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Library loggers at INFO would echo request URLs (with phones and tokens) verbatim.
    for noisy in ("httpx", "telegram", "twilio.http_client", "tortoise", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    install_filters()


class AccessLog(AbstractAccessLogger):
    """A short line per request (ACCESS_LOG=all): client, method, path and query (phones
    masked by the logger's filter), status and seconds taken; the log format adds the
    time.

    aiohttp's own AccessLogger (Apache's combined format) took 73 µs a line in a loop
    of 20,000 and cost the server 0.77 to 1.01 ms of CPU per SMS in the benchmark,
    against 0.58 to 0.69 ms with no access log; this line takes 43 µs.
    """

    __slots__ = ()
    only_problems: ClassVar[bool] = False

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        status = response.status
        if self.only_problems and status < 400 and time < SLOW_REQUEST_SECONDS:
            return
        self.logger.info(
            '%s "%s %s" %d %.3fs', request.remote, request.method, request.path_qs, status, time
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class ProblemsAccessLog(AccessLog):
    """Only requests that failed (status 400 and up) or took a second or more
    (ACCESS_LOG=problems, the default): 0.4 µs for a request it skips.

    Like gunicorn, which logs no access by default, we leave the line per request to
    the https proxy that Twilio and Telegram reach us through; ACCESS_LOG=all adds it.
    """

    __slots__ = ()
    only_problems = True


def access_log_options(mode: AccessLogMode) -> dict[str, Any]:
    """aiohttp's access log arguments (web.run_app, AppRunner) for ACCESS_LOG=`mode`."""
    if mode == "off":
        return {"access_log": None}
    return {
        "access_log": logging.getLogger("aiohttp.access"),
        "access_log_class": ProblemsAccessLog if mode == "problems" else AccessLog,
    }
