"""twilio's aiohttp client, made safe for the outbox: a real timeout, no retries of its
own, and every retryable failure classified while the response headers are at hand.

Retries are the outbox's job, never the HTTP client's: twilio's `max_retries` retries
POSTs on any 5xx, and a 5xx after Twilio queued the message would send it twice. Here
429, 5xx, network failures and timeouts become `RetryLater`; any other 4xx is left to
twilio, which raises TwilioRestException for the transport to read.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from core.rules.delivery import SendBudget
from core.services.outbox.transport import RetryLater

log = logging.getLogger(__name__)

# The request's half of the outbox's send budget (OUTBOX_SEND_TIMEOUT,
# core.rules.delivery.SendBudget). twilio passes `timeout=None` to aiohttp unless told
# otherwise, which aiohttp reads as "no timeout at all".
REQUEST_TIMEOUT = SendBudget().request_timeout

# Never trust a Retry-After that would park a message for hours.
MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """twilio's aiohttp client, with a real timeout and the retryable failures classified
    here, where the response headers (Retry-After) are still at hand: TwilioRestException
    does not keep them."""

    def __init__(self, *, timeout: float = REQUEST_TIMEOUT) -> None:
        # No max_retries: see the module docstring.
        super().__init__(timeout=timeout)

    # twilio logs every request and response at INFO, eight lines a message; our own
    # log lines say what matters, with phones masked.
    def log_request(self, kwargs: dict[str, Any]) -> None:
        log.debug("twilio %s %s", kwargs.get("method"), kwargs.get("url"))

    def log_response(self, status_code: int, response: Any) -> None:
        log.debug("twilio answered %s", status_code)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's signature
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            # aiohttp deprecates its `auth=` argument (gone in aiohttp 4); send the same
            # Basic credentials as a header instead.
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        try:
            response: Response = await super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=None,
                timeout=timeout if timeout is not None else self.timeout,
                allow_redirects=allow_redirects,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Whether Twilio got the message is unknown: the outbox looks it up
            # (TwilioSmsTransport.find_sent) before sending it again.
            raise RetryLater(
                f"twilio unreachable: {type(exc).__name__}", outcome_unknown=True
            ) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryLater(
                f"twilio answered {status}",
                retry_after=retry_after_seconds(_header(response, "Retry-After")),
                # A 429 refused the request; a 5xx may have come after Twilio queued it.
                outcome_unknown=status >= 500,
            )
        return response


def _header(response: Response, name: str) -> str | None:
    headers: Any = response.headers
    if headers is None:
        return None
    value = headers.get(name)
    return str(value) if value is not None else None
