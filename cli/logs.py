"""Logging of a `waitlist` process: the format and levels, and the access log lines
of the server it runs (the app installs its own filters: webhooks.log_filters)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from core.settings import AccessLogMode
from webhooks import log_filters

# A request slower than this is a problem worth a line even when it succeeded.
SLOW_REQUEST_SECONDS = 1.0


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Library loggers at INFO would echo request URLs (with phones and tokens) verbatim.
    for noisy in ("httpx", "telegram", "twilio.http_client", "tortoise", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    log_filters.install()


class AccessLog(AbstractAccessLogger):
    """A short line per request (ACCESS_LOG=all): client, method, path and query (phones
    masked by the logger's filter), status and seconds taken; the log format adds the
    time.

    Shorter than aiohttp's own AccessLogger (Apache's combined format), which costs a
    noticeable share of the server's time per SMS answer (bench/RESULTS.md).
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
    (ACCESS_LOG=problems, the default); a request it skips costs one comparison.

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
