"""Logging of a `waitlist` process: the format and levels, and the access log lines
of the server it runs (the app installs its own filters: webhooks.log_filters)."""

from __future__ import annotations

import logging
import sys
from typing import IO, Any, ClassVar

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from pythonjsonlogger.json import JsonFormatter

from core.settings import AccessLogMode, LogFormat
from webhooks import log_filters, request_ids

# A request slower than this is a problem worth a line even when it succeeded.
SLOW_REQUEST_SECONDS = 1.0

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """The plain line, with the request's id after the logger's name when there is one."""

    _WITH_ID = logging.PercentStyle("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is not None:
            return self._WITH_ID.format(record)
        return super().formatMessage(record)


def json_formatter() -> JsonFormatter:
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message and
    request_id, then whatever a line adds (the access log: method, route, status,
    duration)."""
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """Where a process's records go (stderr unless `stream`), in `log_format`, each
    carrying its request's id."""
    out = logging.StreamHandler(stream if stream is not None else sys.stderr)
    out.setFormatter(json_formatter() if log_format == "json" else TextFormatter())
    out.addFilter(log_filters.RequestIds())
    return out


def configure(level: str, log_format: LogFormat = "text") -> None:
    logging.basicConfig(level=level, handlers=[handler(log_format)])
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
            '%s "%s %s" %d %.3fs',
            request.remote,
            request.method,
            request.path_qs,
            status,
            time,
            extra={
                "request_id": request.get(request_ids.ON_REQUEST),
                "method": request.method,
                "route": _route_of(request),
                "status": status,
                "duration": round(time, 6),
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _route_of(request: BaseRequest) -> str | None:
    """The route template that served the request (never the raw path, which carries
    phones and tokens); None when no route matched."""
    try:
        resource = request.match_info.route.resource  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):  # refused before routing: a malformed request
        return None
    return resource.canonical if resource is not None else None


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
