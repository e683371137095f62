"""A fake Twilio on loopback: the Messages API our Sender calls, and the webhook side
that calls us (signed inbound messages and status callbacks).

The API half is a real aiohttp server, so the real twilio client talks HTTP to it
through TWILIO_API_BASE_URL. It can fail on demand (429 with Retry-After, 5xx, a hang
past the client's timeout, error 21610 and other 4xx) and be slow.

Like Twilio it has no idempotency: every accepted POST is a message sent, even one
whose caller died before the answer came (the fake accepts a message when the request
arrives and answers after `delay`). `requests` holds every POST, `messages` every
accepted message, `per_key()` the messages for each idempotency key (read from the
`key` query parameter of the StatusCallback URL), and `duplicates` how many accepted
messages repeated a key: each one a second text on someone's phone.

WhatsApp: `To` and `From` as `whatsapp:+1...` (a WhatsApp To with an SMS From is
refused with 21910, as at Twilio). A free-form WhatsApp message to a customer outside
the 24 h window is accepted and then fails: `close_window(phone)` closes it, and such a
message's `outcome` is ("failed", "63016"), which `Webhooks.report` posts back as its
status callback (the others' outcome is "delivered").

GET on the Messages list answers as Twilio does, filtered by To, From and DateSent
(`DateSent`, `DateSent<`, `DateSent>`, date-granular, on or before / after; a message
without a DateSent, still queued, never matches a DateSent filter), newest first, paged
(PageSize, Page, PageToken) in Twilio's JSON shape. `lookups` holds those requests.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import web
from twilio.request_validator import RequestValidator
from yarl import URL

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"


@dataclass(frozen=True)
class Failure:
    """One scripted answer instead of success."""

    status: int
    code: int | None = None
    retry_after: str | None = None
    hang: bool = False
    message: str = "scripted failure"


RATE_LIMITED = Failure(429, 20429, retry_after="7", message="Too Many Requests")
SERVER_ERROR = Failure(500, 20500, message="Internal Server Error")
UNAVAILABLE = Failure(503, 20503, message="Service Unavailable")
HANG = Failure(0, hang=True)
OPTED_OUT = Failure(400, 21610, message="Attempt to send to unsubscribed recipient")
INVALID_TO = Failure(400, 21211, message="The 'To' number is not a valid phone number.")
MIXED_CHANNELS = Failure(400, 21910, message="Invalid From and To pair")
OUTSIDE_WINDOW_CODE = "63016"
WHATSAPP = "whatsapp:"


@dataclass
class Message:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None
    key: str | None
    messaging_service_sid: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # None while queued at Twilio (`hold_in_queue`); Twilio sets it on sending.
    sent_at: datetime | None = None
    # What became of it, as its status callback will say: (MessageStatus, ErrorCode).
    outcome: tuple[str, str | None] = ("delivered", None)

    @property
    def whatsapp(self) -> bool:
        return self.to.startswith(WHATSAPP)


@dataclass
class Request:
    form: dict[str, str]
    authorized: bool
    answered: int | None = None


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    delay: float = 0.0
    # Keep accepted messages queued (no DateSent), as Twilio does behind a busy number.
    hold_in_queue: bool = False
    requests: list[Request] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    lookups: list[dict[str, str]] = field(default_factory=list)
    # Phones whose WhatsApp window is closed: they have not written in 24 hours.
    closed_windows: set[str] = field(default_factory=set)
    _script: deque[Failure] = field(default_factory=deque)
    _sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    url: str = ""

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages.json", self._list)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def close_window(self, phone: str) -> None:
        """`phone` last wrote on WhatsApp over 24 hours ago: free-form messages fail (63016)."""
        self.closed_windows.add(phone)

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next POSTs with these failures, in order, then succeed again."""
        self._script.extend(failures)

    @property
    def in_flight(self) -> int:
        """Requests received and not answered yet."""
        return sum(1 for r in self.requests if r.answered is None)

    @property
    def bodies(self) -> list[str]:
        return [m.body for m in self.messages]

    def per_key(self) -> dict[str, list[Message]]:
        """The accepted messages for each idempotency key."""
        keyed: dict[str, list[Message]] = {}
        for message in self.messages:
            keyed.setdefault(message.key or message.sid, []).append(message)
        return keyed

    @property
    def duplicates(self) -> int:
        """Accepted messages that repeated a key already accepted."""
        counts = Counter(m.key or m.sid for m in self.messages)
        return sum(n - 1 for n in counts.values())

    async def wait_for_requests(self, count: int, within: float = 30.0) -> None:
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)

    async def wait_for_messages(self, count: int, within: float = 30.0) -> None:
        await self.wait_until(lambda: len(self.messages) >= count, within=within)

    async def wait_until(self, condition: Callable[[], bool], within: float = 30.0) -> None:
        """Return once `condition()` holds, checked whenever a request arrives or ends."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(condition)

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )

    async def _create(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        seen = Request(form=form, authorized=self._authorized(request))
        self.requests.append(seen)
        async with self._arrived:
            self._arrived.notify_all()
        response = await self._answer(request, seen)
        seen.answered = response.status
        async with self._arrived:
            self._arrived.notify_all()
        return response

    async def _answer(self, request: web.Request, seen: Request) -> web.Response:
        if not seen.authorized:
            return _error(401, 20003, "Authenticate")
        if request.match_info["sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if self._script:
            failure = self._script.popleft()
            if failure.hang:
                # Never answer: the client's own timeout has to end the request.
                await self._closing.wait()
                return _error(504, None, "fake closing")
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.code, failure.message, headers=headers)
        form = seen.form
        if not form.get("To") or not form.get("Body") or not (
            form.get("From") or form.get("MessagingServiceSid")
        ):
            return _error(400, 21604, "A 'To', 'Body' and 'From' are required")
        if form.get("From") and form["To"].startswith(WHATSAPP) != form["From"].startswith(
            WHATSAPP
        ):
            return _error(MIXED_CHANNELS.status, MIXED_CHANNELS.code, MIXED_CHANNELS.message)
        callback = form.get("StatusCallback")
        service = form.get("MessagingServiceSid")
        message = Message(
            sid=f"SM{next(self._sids):032x}",
            to=form["To"],
            sender=form.get("From") or service or "",
            body=form["Body"],
            status_callback=callback,
            key=_key_of(callback),
            messaging_service_sid=service,
        )
        if message.whatsapp and message.to[len(WHATSAPP) :] in self.closed_windows:
            message.outcome = ("failed", OUTSIDE_WINDOW_CODE)
        if not self.hold_in_queue:
            message.sent_at = message.created_at
        # Accepted now: a request whose caller is killed while the answer is slow
        # to come is a message sent all the same, as at Twilio.
        self.messages.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        return _created(self.account_sid, message)

    async def _list(self, request: web.Request) -> web.Response:
        query = {k: str(v) for k, v in request.query.items()}
        self.lookups.append(query)
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if request.match_info["sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        try:
            page_size = min(int(query.get("PageSize", "50")), 1000)
            page = int(query.get("Page", "0"))
            start = int(query["PageToken"][2:]) if "PageToken" in query else page * page_size
            selected = [m for m in self.messages if _matches(m, query)]
        except ValueError:
            return _error(400, 20001, "Invalid paging or filter parameter")
        # Newest first, as Twilio lists them.
        selected.sort(key=lambda m: (m.created_at, m.sid), reverse=True)
        chunk = selected[start : start + page_size]
        path = request.path
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(page_no: int, offset: int | None = None) -> str:
            params = {**filters, "PageSize": str(page_size), "Page": str(page_no)}
            if offset is not None:
                params["PageToken"] = f"PT{offset}"
            return f"{path}?{urlencode(params)}"

        more = start + page_size < len(selected)
        return web.json_response(
            {
                "messages": [_resource(self.account_sid, m) for m in chunk],
                "end": start + len(chunk) - 1 if chunk else 0,
                "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1, start + page_size) if more else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": uri(page - 1, max(start - page_size, 0)) if page else None,
                "start": start,
                "uri": uri(page, start if "PageToken" in query else None),
            }
        )


def _matches(message: Message, query: Mapping[str, str]) -> bool:
    if "To" in query and message.to != query["To"]:
        return False
    if "From" in query and message.sender != query["From"]:
        return False
    # Twilio reads only the date of a DateSent filter (YYYY-MM-DD; the client sends a
    # full timestamp), and a message with no DateSent yet matches none.
    for name, test in (
        ("DateSent", lambda day, limit: day == limit),
        ("DateSent<", lambda day, limit: day <= limit),
        ("DateSent>", lambda day, limit: day >= limit),
    ):
        if name in query:
            limit = date.fromisoformat(query[name][:10])
            if message.sent_at is None or not test(message.sent_at.date(), limit):
                return False
    return True


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment, usegmt=True) if moment is not None else None


def _resource(account_sid: str, message: Message) -> dict[str, Any]:
    """A Message resource in Twilio's JSON shape."""
    return {
        "sid": message.sid,
        "account_sid": account_sid,
        "to": message.to,
        "from": message.sender,
        "messaging_service_sid": message.messaging_service_sid,
        "body": message.body,
        "status": "sent" if message.sent_at else "queued",
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "date_created": _rfc2822(message.created_at),
        "date_updated": _rfc2822(message.sent_at or message.created_at),
        "date_sent": _rfc2822(message.sent_at),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message.sid}.json",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{message.sid}/Media.json"
        },
    }


def _key_of(callback: str | None) -> str | None:
    if not callback:
        return None
    keys = parse_qs(urlsplit(callback).query).get("key")
    return keys[0] if keys else None


def _created(account_sid: str, message: Message) -> web.Response:
    resource = _resource(account_sid, message)
    resource.update(status="queued", date_sent=None)
    return web.json_response(resource, status=201)


def _error(
    status: int, code: int | None, message: str, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code is not None:
        body["code"] = code
        body["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
    return web.json_response(body, status=status, headers=headers)


# --- the webhook side: what Twilio sends to us --------------------------------------


def signature(url: str, params: Mapping[str, str], *, token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form POST to `url`, as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def inbound_form(
    *, sid: str, sender: str, to: str, body: str, **extra: str
) -> dict[str, str]:
    """The fields of an inbound SMS webhook (a realistic subset)."""
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }


class Webhooks:
    """Calls our webhooks through an aiohttp test client as Twilio would, signed for the
    public address (PUBLIC_BASE_URL) while the request really goes to the test server."""

    def __init__(self, client: Any, public_base_url: str, *, token: str = AUTH_TOKEN) -> None:
        self.client = client
        self.public_base_url = public_base_url.rstrip("/")
        self.token = token
        self._sids = itertools.count(1)

    def next_sid(self) -> str:
        return f"SM{next(self._sids):032x}"

    async def post(
        self,
        path_qs: str,
        params: Mapping[str, str],
        *,
        token: str | None = None,
        signed_url: str | None = None,
        sign: bool = True,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        all_headers = dict(headers or {})
        if sign:
            url = signed_url or self.public_base_url + path_qs
            all_headers["X-Twilio-Signature"] = signature(url, params, token=token or self.token)
        # encoded=True: send the path and query exactly as written, as Twilio does.
        return await self.client.post(
            URL(path_qs, encoded=True),
            data=data if data is not None else dict(params),
            headers=all_headers,
        )

    async def sms(
        self, *, sender: str, body: str, to: str, sid: str | None = None, **options: Any
    ) -> Any:
        form = inbound_form(sid=sid or self.next_sid(), sender=sender, to=to, body=body)
        return await self.post("/webhooks/twilio/sms", form, **options)

    async def whatsapp(
        self, *, sender: str, body: str, to: str, sid: str | None = None, **options: Any
    ) -> Any:
        """A WhatsApp message, as Twilio posts it to the same webhook as an SMS."""
        form = inbound_form(
            sid=sid or self.next_sid(),
            sender=WHATSAPP + sender,
            to=WHATSAPP + to,
            body=body,
            ProfileName="Ann",
            WaId=sender.lstrip("+"),
        )
        return await self.post("/webhooks/twilio/sms", form, **options)

    async def report(self, message: Message) -> Any:
        """The status callback of what became of `message` (its `outcome`)."""
        state, error = message.outcome
        return await self.status(message, state, error_code=error)

    async def status(
        self, message: Message, status: str, *, error_code: str | None = None
    ) -> Any:
        """The delivery report Twilio posts to the message's StatusCallback."""
        assert message.status_callback, "the message was sent without a StatusCallback"
        public = urlsplit(message.status_callback)
        path_qs = public.path + (f"?{public.query}" if public.query else "")
        params = {
            "MessageSid": message.sid,
            "MessageStatus": status,
            "AccountSid": ACCOUNT_SID,
            "To": message.to,
            "From": message.sender,
        }
        if error_code:
            params["ErrorCode"] = error_code
        return await self.post(path_qs, params, signed_url=message.status_callback)
