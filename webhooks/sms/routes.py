"""Twilio's webhooks: inbound SMS (answered inline with TwiML) and delivery status.

Each handler is thin: verify the signature, dedupe on MessageSid, act, answer. They
never answer 5xx: a bad request gets a 4xx, anything failing after the signature
check still gets a polite TwiML reply, because Twilio shows the customer nothing on
an error and logs it as 11200 on our account.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from xml.sax.saxutils import escape

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot.engine import wants_standings
from core.models import Channel, ServiceAccount
from core.rules.days import utcnow
from core.rules.optout import Keyword, carrier_keyword
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.rules.ratelimit import Verdict, inbound_verdict
from core.services import contacts, opt_outs
from core.services import inbound as inbound_records
from core.services.outbox.reports import record_delivery_report
from core.services.sender import Sender
from webhooks.sms import replies
from webhooks.sms.transport import OPTED_OUT_CODE, TwilioSmsTransport
from webhooks.state import OUTBOX_WAKEUP

log = logging.getLogger(__name__)

# Twilio's own cap on a message body; anything longer did not come from a phone.
MAX_BODY_CHARS = 1600
# Twilio waits 15 s for our answer; answer politely well before that.
ENGINE_BUDGET_SECONDS = 10.0

_FORM = "application/x-www-form-urlencoded"


class Engine(Protocol):
    def __call__(
        self,
        *,
        channel: Channel,
        phone: str,
        text: str,
        default_provider_phone: str | None = None,
        now: datetime | None = None,
        who: Sender | None = None,
    ) -> Awaitable[str]: ...


@dataclass
class SmsChannel:
    """The SMS channel's state in the app (under webhooks.sms.SMS).

    `transport` is filled in at start-up, inside the running loop, and emptied on shutdown.
    """

    validator: RequestValidator | None
    public_base_url: str
    inbound_per_minute: int
    own_numbers: frozenset[str]
    engine: Engine
    off_reason: str | None = None
    transport: TwilioSmsTransport | None = None
    # Replies given, stored in batches by a task the channel runs (see webhooks.sms).
    pending_replies: inbound_records.PendingReplies = field(
        default_factory=inbound_records.PendingReplies
    )


SMS = web.AppKey("sms", SmsChannel)


_TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml_text(text: str | None) -> str:
    """The TwiML twilio's MessagingResponse writes for one message (or none), byte for
    byte (tests compare the two), without building an element tree per answer."""
    if not text:
        return f"{_TWIML_HEAD}<Response />"
    return f"{_TWIML_HEAD}<Response><Message>{escape(text)}</Message></Response>"


def twiml(text: str | None) -> web.Response:
    return web.Response(text=twiml_text(text), content_type="application/xml", charset="utf-8")


def _signed(
    validator: RequestValidator,
    *,
    url: str,
    form: Mapping[str, object],
    signature: str,
    algorithm: str | None,
) -> bool:
    """Whether Twilio signed `form` sent to `url`.

    Twilio signs the address it called, so that one is checked first: one HMAC. The
    library's validate, the fallback, also tries the address with and without its port
    (Twilio's signing has varied), parsing it twice and computing two more.
    """
    with contextlib.suppress(ValueError):
        expected = validator.compute_signature(url, form, algorithm)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
    return bool(validator.validate(url, form, signature, algorithm))


async def _verified_form(request: web.Request, channel: SmsChannel) -> MultiDictProxy[str]:
    """The form Twilio signed, or an HTTP error; nothing is read before the cheap checks."""
    if channel.validator is None:
        raise web.HTTPNotFound()
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise web.HTTPForbidden(reason="missing X-Twilio-Signature")
    if request.content_type != _FORM:
        raise web.HTTPUnsupportedMediaType(reason=f"expected {_FORM}")
    form = await request.post()
    # Twilio signed the address it called. Behind a proxy or tunnel request.url holds
    # the internal host and port, so rebuild it from PUBLIC_BASE_URL and the path and
    # query exactly as they arrived (raw_path keeps the query's percent-encoding).
    url = channel.public_base_url + request.raw_path
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    if not _signed(channel.validator, url=url, form=form, signature=signature, algorithm=algorithm):
        log.warning("twilio webhook %s: bad signature", request.path)
        raise web.HTTPForbidden(reason="bad X-Twilio-Signature")
    # Twilio sends text fields only; a file part would be a forgery or a mistake.
    return MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


async def inbound(request: web.Request) -> web.Response:
    channel = request.app[SMS]
    form = await _verified_form(request, channel)
    sid = form.get("MessageSid", "").strip()
    if not sid or len(sid) > 64:
        raise web.HTTPBadRequest(reason="MessageSid is required")
    try:
        phone = normalize_phone(form.get("From", ""))
    except InvalidPhone:
        raise web.HTTPBadRequest(reason="From is not a phone number") from None
    try:
        answer = await _answer(channel, sid=sid, phone=phone, form=form)
        request.app[OUTBOX_WAKEUP].wake()  # the engine's notices leave now
        return twiml(answer)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("sms from %s: could not answer", mask_phone(phone))
        return twiml(replies.SORRY)


async def _answer(
    channel: SmsChannel, *, sid: str, phone: str, form: MultiDictProxy[str]
) -> str | None:
    # Record the delivery before any side effect: a redelivery (Twilio retries, a
    # proxy replays) finds the unique key taken and repeats the stored reply. Who is
    # writing comes with it, for the engine.
    now = utcnow()
    recorded = await inbound_records.record_and_identify(
        channel=Channel.SMS,
        external_id=sid,
        phone=phone,
        now=now,
        with_standings=wants_standings(form.get("Body", "")[:MAX_BODY_CHARS]),
    )
    if recorded is None:
        return await inbound_records.earlier_reply(
            channel=Channel.SMS,
            external_id=sid,
            wait_seconds=ENGINE_BUDGET_SECONDS + 1,
            pending=channel.pending_replies,
        )
    delivery, who = recorded
    verdict = inbound_verdict(
        seen_in_window=delivery.seen_in_window, limit=channel.inbound_per_minute
    )
    reply = await _reply(channel, phone=phone, form=form, verdict=verdict, now=now, who=who)
    channel.pending_replies.add(delivery.id, reply)
    return reply


async def _reply(
    channel: SmsChannel,
    *,
    phone: str,
    form: MultiDictProxy[str],
    verdict: Verdict,
    now: datetime,
    who: Sender,
) -> str:
    body = form.get("Body", "")
    keyword = carrier_keyword(body)
    # Opt-out is honoured whatever the rate limit says. Twilio has already answered
    # STOP and START itself (and would refuse our reply to STOP with 21610), so the
    # answer to an opt-out is empty TwiML.
    if keyword is Keyword.OPT_OUT:
        await contacts.set_opted_out(phone=phone, opted_out=True)
        log.info("sms from %s: opted out", mask_phone(phone))
        return ""
    if keyword is Keyword.OPT_OUT_LEAVE:
        left = await opt_outs.opt_out_and_leave(phone=phone, now=now)
        log.info("sms from %s: opted out, left %d line(s)", mask_phone(phone), left)
        return ""
    if keyword in (Keyword.OPT_IN, Keyword.OPT_IN_ANSWER):
        await contacts.set_opted_out(phone=phone, opted_out=False)
        if keyword is Keyword.OPT_IN:
            return ""

    if verdict is Verdict.SLOW_DOWN:
        log.info("sms from %s: over %d a minute", mask_phone(phone), channel.inbound_per_minute)
        return replies.SLOW_DOWN
    if verdict is Verdict.SILENT:
        return ""

    cut = len(body) > MAX_BODY_CHARS
    text = body[:MAX_BODY_CHARS]
    to = _normalized_or_none(form.get("To", ""))
    default_provider = to if to and await _is_provider_phone(channel, to) else None
    try:
        async with asyncio.timeout(ENGINE_BUDGET_SECONDS):
            reply = await channel.engine(
                channel=Channel.SMS,
                phone=phone,
                text=text,
                default_provider_phone=default_provider,
                now=now,
                who=who,
            )
    except Exception:
        # The engine promises never to raise; if it does anyway, the customer still
        # gets an answer and the delivery is recorded so a redelivery does not retry it.
        log.exception("sms from %s: engine failed", mask_phone(phone))
        reply = replies.SORRY
    if not reply:
        reply = replies.SORRY
    return f"{reply}\n{replies.CUT}" if cut else reply


def _normalized_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


async def _is_provider_phone(channel: SmsChannel, phone: str) -> bool:
    # Our general number is never a provider's: skip the lookup for the common case.
    if phone in channel.own_numbers:
        return False
    return await ServiceAccount.exists(phone=phone)


# Twilio's final words on a message; earlier ones (queued, sent) only prove it was accepted.
async def status(request: web.Request) -> web.Response:
    """Twilio's delivery report for a message the outbox sent."""
    channel = request.app[SMS]
    form = await _verified_form(request, channel)
    sid = form.get("MessageSid", "").strip()
    state = form.get("MessageStatus", "").strip().lower()
    if not sid or not state:
        raise web.HTTPBadRequest(reason="MessageSid and MessageStatus are required")
    key = request.query.get("key")
    try:
        error = (form.get("ErrorCode") or "").strip() or None
        await record_delivery_report(
            external_id=sid[:64],
            state=state,
            error=error,
            key=key,
            recipient_opted_out=error == str(OPTED_OUT_CODE),
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        # Twilio does not retry status callbacks on errors; a 5xx would only add an
        # 11200 to the account's debugger.
        log.exception("twilio status %s for %s: not recorded", state, sid)
    return web.Response(status=204)
