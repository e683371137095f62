"""Twilio's webhooks: inbound SMS (answered inline with TwiML) and delivery status.

Each handler is thin. Inbound (SMS, and WhatsApp with `whatsapp:` addresses, through
webhooks.sms.whatsapp): verify the signature, read the form, map the carrier's
keywords (SMS only), hand the message to the one inbound path (bot.inbox) and answer its outcome
in TwiML. Status: verify, record the report. They never answer 5xx: a bad request gets
a 4xx, anything failing after the signature check still gets a polite TwiML reply,
because Twilio shows the customer nothing on an error and logs it as 11200 on our
account.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot import inbox
from core import metrics
from core.locales import say
from core.models import Channel
from core.rules.days import utcnow
from core.rules.optout import Keyword, carrier_keyword
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.services import contacts, opt_outs
from core.services.outbox.reports import record_delivery_report
from webhooks.sms.transport import OPTED_OUT_CODE, UNREACHABLE_CODES, TwilioSmsTransport
from webhooks.sms.whatsapp import split_address
from webhooks.state import INBOX, OUTBOX_WAKEUP, SETTINGS

log = logging.getLogger(__name__)

# Twilio's own cap on a message body; anything longer did not come from a phone.
MAX_BODY_CHARS = 1600
# Twilio waits 15 s for our answer; answer politely well before that.
ENGINE_BUDGET_SECONDS = 10.0
POLICY = inbox.ChannelPolicy(
    slow_down="slow_down_sms",
    sorry="sorry",
    engine_budget=ENGINE_BUDGET_SECONDS,
    # A redelivery (Twilio retries, a proxy replays) gets the first delivery's answer,
    # waiting for it while that one is still being answered.
    repeat_wait=ENGINE_BUDGET_SECONDS + 1,
)

_FORM = "application/x-www-form-urlencoded"
# Inbound messages and delivery reports alike, SMS and WhatsApp (one Twilio webhook): a
# forgery is refused before anything in it, its channel included, can be believed.
_REFUSED = metrics.inbound_by[Channel.SMS.value, metrics.REFUSED_SIGNATURE]


@dataclass
class SmsChannel:
    """The SMS channel's state in the app (under webhooks.sms.SMS).

    `transport` is filled in at start-up, inside the running loop, and emptied on shutdown.
    """

    validator: RequestValidator | None
    public_base_url: str
    # Our own sending numbers, never a provider's.
    own_numbers: frozenset[str]
    off_reason: str | None = None
    transport: TwilioSmsTransport | None = None
    # WhatsApp's, over the same client, when a WhatsApp sender is set.
    whatsapp: TwilioSmsTransport | None = None


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
        _REFUSED.inc()
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
        _REFUSED.inc()
        raise web.HTTPForbidden(reason="bad X-Twilio-Signature")
    # Twilio sends text fields only; a file part would be a forgery or a mistake.
    return MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


async def inbound(request: web.Request) -> web.Response:
    channel = request.app[SMS]
    form = await _verified_form(request, channel)
    sid = form.get("MessageSid", "").strip()
    if not sid or len(sid) > 64:
        raise web.HTTPBadRequest(reason="MessageSid is required")
    via, sender = split_address(form.get("From", ""))
    try:
        phone = normalize_phone(sender)
    except InvalidPhone:
        raise web.HTTPBadRequest(reason="From is not a phone number") from None
    try:
        message = _message(channel, via=via, sid=sid, phone=phone, form=form)
        # Twilio acts on opt-out words on SMS only; on WhatsApp they are the engine's.
        first = _carrier_step(message, form.get("Body", "")) if via is Channel.SMS else None
        outcome = await request.app[INBOX].receive(message, policy=POLICY, first=first)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("sms from %s: could not answer", mask_phone(phone))
        return twiml(say("sorry"))
    # Every outcome answers with its reply: a redelivery repeats the first one's, and
    # the flood limit's silence and the carrier's words answer nothing.
    return twiml(outcome.reply)


def _message(
    channel: SmsChannel, *, via: Channel, sid: str, phone: str, form: MultiDictProxy[str]
) -> inbox.Message:
    body = form.get("Body", "")
    to = _normalized_or_none(split_address(form.get("To", ""))[1])
    return inbox.Message(
        channel=via,
        phone=phone,
        text=body[:MAX_BODY_CHARS],
        delivery_id=sid,
        now=utcnow(),
        # Our general number is never a provider's: no lookup for the common case.
        reached=to if to is not None and to not in channel.own_numbers else None,
        postscript=say("sms_cut") if len(body) > MAX_BODY_CHARS else None,
    )


def _carrier_step(message: inbox.Message, body: str) -> inbox.FirstStep | None:
    """The carrier's opt-out and opt-in words, honoured whatever the flood limit says.

    Twilio has already answered STOP and START itself (and would refuse our reply to
    STOP with 21610), so the answer to those is empty TwiML.
    """
    keyword = carrier_keyword(body)
    if keyword is None:
        return None
    phone = message.phone

    async def step() -> inbox.Answered | inbox.GoOn:
        if keyword is Keyword.OPT_OUT:
            await contacts.set_opted_out(phone=phone, opted_out=True)
            log.info("sms from %s: opted out", mask_phone(phone))
            return inbox.Answered.saying("")
        if keyword is Keyword.OPT_OUT_LEAVE:
            left = await opt_outs.opt_out_and_leave(phone=phone, now=message.now)
            log.info("sms from %s: opted out, left %d line(s)", mask_phone(phone), left)
            return inbox.Answered.saying("")
        await contacts.set_opted_out(phone=phone, opted_out=False)
        if keyword is Keyword.OPT_IN:
            return inbox.Answered.saying("")
        # YES also answers the conversation.
        return inbox.GoOn.SAME_SENDER

    return step


def _normalized_or_none(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


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
    # A WhatsApp message Twilio could not deliver goes once by SMS, from this process's
    # dispatcher (woken once the move is written) or any other's.
    fallback = (
        Channel.SMS
        if request.app[SETTINGS].fallback_to_sms and channel.transport is not None
        else None
    )
    try:
        error = (form.get("ErrorCode") or "").strip() or None
        with request.app[OUTBOX_WAKEUP].after_writes():
            await record_delivery_report(
                external_id=sid[:64],
                state=state,
                error=error,
                key=key,
                channel=split_address(form.get("To", ""))[0],
                recipient_opted_out=error == str(OPTED_OUT_CODE),
                recipient_unreachable=error is not None
                and error.isdigit()
                and int(error) in UNREACHABLE_CODES,
                fallback=fallback,
            )
    except asyncio.CancelledError:
        raise
    except Exception:
        # Twilio does not retry status callbacks on errors; a 5xx would only add an
        # 11200 to the account's debugger.
        log.exception("twilio status %s for %s: not recorded", state, sid)
    return web.Response(status=204)
