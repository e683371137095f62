"""Outbound SMS through Twilio's Messages API: the outbox's Sender for the SMS channel.

Retries are the outbox's job, never the HTTP client's: twilio's `max_retries` retries
POSTs on any 5xx, and a 5xx after Twilio queued the message would send it twice. Here
every failure becomes `RetryLater` (429, 5xx, network, timeout) or `Undeliverable`
(any other 4xx; 21610 means the recipient opted out at the carrier).

Twilio's Messages API takes no idempotency key. What keeps an SMS from going out twice
after a send whose outcome is unknown (the process died mid-request, a timeout, a 5xx)
is `find_sent`: before sending again, the dispatcher looks the message up in Twilio's
message list (same To, same From or Messaging Service, same body, created since the
first unknown attempt) and, if Twilio has it, records it as sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.senders import HandBack, RetryLater, Undeliverable
from core.models import Channel
from core.rules.delivery import SendBudget
from core.rules.phones import mask_phone
from core.settings import Settings

log = logging.getLogger(__name__)

STATUS_PATH = "/webhooks/twilio/status"

# Twilio error code for "Attempt to send to unsubscribed recipient".
OPTED_OUT_CODE = 21610

# The request timeout and the longest wait for a pacing slot are the two halves of the
# outbox's send budget (OUTBOX_SEND_TIMEOUT, core.rules.delivery.SendBudget): a paced
# send is handed back before it could be cut off mid-wait and counted as a failed
# attempt, and it ends while its claim holds. twilio passes `timeout=None` to aiohttp
# unless told otherwise, which aiohttp reads as "no timeout at all".
REQUEST_TIMEOUT = SendBudget().request_timeout
MAX_PACING_WAIT = SendBudget().pacing_wait

# Never trust a Retry-After that would park a message for hours.
MAX_RETRY_AFTER = 3600.0

# How many of the recipient's latest messages from us find_sent reads (newest first),
# and how many per request. One phone gets a few messages from us a day; a lookup only
# happens after a send with an unknown outcome.
LOOKUP_LIMIT = 200
LOOKUP_PAGE_SIZE = 100


class Pacer:
    """Spaces sends from one sender number at least 1/rate seconds apart.

    Per process: with several server processes each paces itself, so the combined rate
    is workers x SMS_MAX_PER_SECOND. Twilio queues what exceeds a number's rate rather
    than rejecting it, so this keeps its queue short rather than guarding correctness.
    """

    def __init__(
        self,
        per_second: float,
        *,
        max_wait: float = MAX_PACING_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}

    async def wait(self, sender_key: str) -> None:
        """Return when a send from `sender_key` may go; RetryLater if that is too far off."""
        now = self._clock()
        slot = max(now, self._next_slot.get(sender_key, now))
        delay = slot - now
        if delay > self._max_wait:
            # Nothing was tried: not a failed attempt (see bot.senders.HandBack).
            raise HandBack("sender is paced", retry_after=delay)
        # Reserve the slot before sleeping: concurrent callers queue up behind it. No
        # await between reading and writing, so no lock is needed.
        self._next_slot[sender_key] = slot + self._interval
        if delay > 0:
            await self._sleep(delay)


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
            # (TwilioSmsSender.find_sent) before sending it again.
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


class TwilioSmsSender:
    """Sends one outbox message as one SMS; returns Twilio's MessageSid."""

    channel = Channel.SMS

    def __init__(
        self,
        *,
        client: Client,
        pacer: Pacer,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback_url: str | None,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("a from number or a messaging service SID is required")
        self._client = client
        self._pacer = pacer
        self._from = from_number
        self._service = messaging_service_sid
        self._status_callback_url = status_callback_url
        self._sender_key = from_number or messaging_service_sid or ""

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        await self._pacer.wait(self._sender_key)
        options: dict[str, Any] = {"to": recipient_phone, "body": text}
        if self._from:
            options["from_"] = self._from
        if self._service:
            options["messaging_service_sid"] = self._service
        if self._status_callback_url:
            # The key rides in the callback URL (Twilio echoes it back untouched), so a
            # callback can find its outbox row even if this process died before it
            # recorded the MessageSid.
            options["status_callback"] = (
                f"{self._status_callback_url}?{urlencode({'key': idempotency_key})}"
            )
        try:
            message = await self._client.messages.create_async(**options)
        except TwilioRestException as exc:
            raise _undeliverable(exc, recipient_phone) from exc
        sid = message.sid
        return str(sid) if sid else None

    async def find_sent(
        self, *, recipient_phone: str, text: str, idempotency_key: str, since: datetime
    ) -> Sequence[str]:
        """Twilio's SIDs of messages from us to `recipient_phone` with body `text`
        created since `since`, oldest first.

        The list is read by To and From, newest first, without a DateSent filter:
        DateSent is date-granular and a message still queued at Twilio has no DateSent
        yet, so such a filter could miss exactly the message we are looking for. Twilio
        keeps no field of ours with the message (the StatusCallback URL carrying the
        key is not returned), so the body is what tells it apart; two identical notices
        to one phone are told apart by the caller (an SID recorded on another outbox
        row is taken).
        """
        options: dict[str, Any] = {
            "to": recipient_phone,
            "limit": LOOKUP_LIMIT,
            "page_size": LOOKUP_PAGE_SIZE,
        }
        if self._from:
            options["from_"] = self._from
        try:
            messages = await self._client.messages.list_async(**options)
        except TwilioException as exc:
            # Not an answer either way: the caller must not send again yet.
            raise RetryLater(f"twilio message lookup failed: {exc}") from exc
        found: list[tuple[datetime, str]] = []
        for message in messages:
            if not message.sid or message.body != text:
                continue
            if not str(message.direction or "outbound").startswith("outbound"):
                continue
            if self._service and not self._from and message.messaging_service_sid != self._service:
                continue
            created = message.date_created
            if created is None or created < since:
                continue
            found.append((created, str(message.sid)))
        found.sort()
        log.info(
            "twilio lookup for %s since %s: %d match(es) in %d message(s)",
            mask_phone(recipient_phone), since.isoformat(timespec="seconds"),
            len(found), len(messages),
        )
        return [sid for _, sid in found]


def _undeliverable(exc: TwilioRestException, recipient_phone: str) -> Undeliverable:
    # Only 4xx other than 429 get here (TwilioHttpClient turned the rest into RetryLater).
    code = exc.code
    if code == OPTED_OUT_CODE:
        return Undeliverable(f"twilio {OPTED_OUT_CODE}: recipient opted out", opted_out=True)
    if exc.status in (401, 403):
        log.error(
            "twilio refused our credentials (HTTP %s): check TWILIO_ACCOUNT_SID and "
            "TWILIO_AUTH_TOKEN",
            exc.status,
        )
    else:
        log.warning(
            "twilio rejected an SMS to %s: HTTP %s, error %s", mask_phone(recipient_phone),
            exc.status, code,
        )
    return Undeliverable(f"twilio {exc.status} error {code}: {str(exc.msg)[:200]}")


def outbound_problem(settings: Settings) -> str | None:
    """Why outbound SMS cannot work with these settings, or None if it can."""
    if settings.twilio_auth_token is None:
        return "TWILIO_AUTH_TOKEN is not set"
    if not settings.twilio_account_sid:
        return "TWILIO_ACCOUNT_SID is not set"
    if not settings.twilio_from_number and not settings.twilio_messaging_service_sid:
        return "neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID is set"
    return None


@asynccontextmanager
async def twilio_sms_sender(
    settings: Settings, *, request_timeout: float | None = None
) -> AsyncIterator[TwilioSmsSender]:
    """The SMS Sender with its HTTP session; enter it inside the running loop.

    AsyncTwilioHttpClient opens an aiohttp session when constructed, which must belong
    to the loop that uses it; the session is closed on the way out.
    """
    problem = outbound_problem(settings)
    if problem is not None:
        raise ValueError(f"outbound SMS is off: {problem}")
    assert settings.twilio_auth_token is not None
    budget = settings.send_budget
    http = TwilioHttpClient(
        timeout=request_timeout if request_timeout is not None else budget.request_timeout
    )
    try:
        client = Client(
            username=settings.twilio_account_sid,
            password=settings.twilio_auth_token.get_secret_value(),
            account_sid=settings.twilio_account_sid,
            http_client=http,
            # twilio falls back to os.environ for anything not passed, and TWILIO_EDGE or
            # TWILIO_REGION there would rewrite the host we point it at. Our Settings are
            # the only source of configuration.
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        # The Api domain builds every Messages URL from this base: a sandbox or the
        # test fake stands in for api.twilio.com here.
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
        status_url = (
            settings.public_base_url.rstrip("/") + STATUS_PATH if settings.public_base_url else None
        )
        yield TwilioSmsSender(
            client=client,
            pacer=Pacer(settings.sms_max_per_second, max_wait=budget.pacing_wait),
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=status_url,
        )
    finally:
        await http.close()
