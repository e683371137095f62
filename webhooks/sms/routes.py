"""Twilio's webhooks: inbound SMS (answered inline with TwiML) and delivery status.

Each handler is thin: verify the signature, dedupe on MessageSid, act, answer. They
never answer 5xx: a bad request gets a 4xx, anything failing after the signature
check still gets a polite TwiML reply, because Twilio shows the customer nothing on
an error and logs it as 11200 on our account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from core.models import Channel, InboundMessage, OutboxMessage, OutboxStatus, ServiceAccount
from core.rules.days import utcnow
from core.rules.delivery import supersedes
from core.rules.optout import Keyword, carrier_keyword
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.rules.ratelimit import Verdict, inbound_verdict
from core.services import contacts, sql
from core.services.statements import bind
from webhooks.sms import replies
from webhooks.sms.sender import OPTED_OUT_CODE, TwilioSmsSender

log = logging.getLogger(__name__)

# Twilio's own cap on a message body; anything longer did not come from a phone.
MAX_BODY_CHARS = 1600
RATE_WINDOW = timedelta(minutes=1)
# Twilio waits 15 s for our answer; answer politely well before that.
ENGINE_BUDGET_SECONDS = 10.0

_FORM = "application/x-www-form-urlencoded"
_SMS = Channel.SMS.value


class Engine(Protocol):
    def __call__(
        self,
        *,
        channel: Channel,
        phone: str,
        text: str,
        default_provider_phone: str | None = None,
    ) -> Awaitable[str]: ...


@dataclass
class SmsChannel:
    """The SMS channel's state in the app (under webhooks.sms.SMS).

    `sender` is filled in at start-up, inside the running loop, and emptied on shutdown.
    """

    validator: RequestValidator | None
    public_base_url: str
    inbound_per_minute: int
    own_numbers: frozenset[str]
    engine: Engine
    off_reason: str | None = None
    sender: TwilioSmsSender | None = None


SMS = web.AppKey("sms", SmsChannel)


def twiml(text: str | None) -> web.Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return web.Response(text=str(response), content_type="application/xml", charset="utf-8")


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
    if not channel.validator.validate(url, form, signature, algorithm):
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
        return twiml(await _answer(channel, sid=sid, phone=phone, form=form))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("sms from %s: could not answer", mask_phone(phone))
        return twiml(replies.SORRY)


# Records a delivery and, in the same statement, reads the phone's rate window: the
# phone's other messages since {since}, and whether one of them was told to slow down.
# A redelivery (same MessageSid) inserts nothing and returns no row. The subqueries
# leave out the row being inserted (PostgreSQL would not see it, SQLite would). They
# find the window on the (phone, created_at) index and test the channel in FILTER:
# in WHERE, a planner with stale statistics (a young table) ANDs in the unique index
# on (channel, external_id) and reads all of that channel's entries.
_RECORD = """
INSERT INTO inbound_messages (channel, external_id, phone, created_at)
VALUES ({channel}, {sid}, {phone}, {now})
ON CONFLICT (channel, external_id) DO NOTHING
RETURNING id,
  (SELECT COUNT(*) FILTER (WHERE o.channel = {channel}) FROM inbound_messages o
   WHERE o.phone = {phone} AND o.created_at >= {since}
     AND o.id <> inbound_messages.id) AS others,
  (SELECT COUNT(*) FILTER (WHERE o.channel = {channel} AND o.reply = {slow_down})
   FROM inbound_messages o
   WHERE o.phone = {phone} AND o.created_at >= {since}) AS warned
"""
_SAVE_REPLY = "UPDATE inbound_messages SET reply = {} WHERE id = {}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """An inbound message recorded for the first time, and its phone's rate window."""

    id: int
    # The phone's messages in the window, this one included.
    seen_in_window: int
    # Whether one of them was answered with the slow-down reply.
    warned_in_window: bool


async def record_delivery(*, sid: str, phone: str, now: datetime) -> Delivery | None:
    """Record MessageSid `sid` from `phone`; None if it was recorded before.

    The window is read from inbound_messages, which every server process writes, so
    the limit holds across processes and restarts.
    """
    conn = sql.connection()
    values = {
        "channel": _SMS,
        "sid": sid,
        "phone": phone,
        "now": now,
        "since": now - RATE_WINDOW,
        "slow_down": replies.SLOW_DOWN,
    }
    rows = await conn.execute_query_dict(*bind(conn, _RECORD, values))
    if not rows:
        return None
    row = rows[0]
    return Delivery(row["id"], int(row["others"]) + 1, bool(row["warned"]))


async def _answer(
    channel: SmsChannel, *, sid: str, phone: str, form: MultiDictProxy[str]
) -> str | None:
    # Record the delivery before any side effect: a redelivery (Twilio retries, a
    # proxy replays) finds the unique key taken and repeats the stored reply.
    delivery = await record_delivery(sid=sid, phone=phone, now=utcnow())
    if delivery is None:
        return await _earlier_reply(sid)
    verdict = inbound_verdict(
        seen_in_window=delivery.seen_in_window,
        limit=channel.inbound_per_minute,
        warned_in_window=delivery.warned_in_window,
    )
    reply = await _reply(channel, phone=phone, form=form, verdict=verdict)
    conn = sql.connection()
    await conn.execute_query(_SAVE_REPLY.format(*sql.params(conn, 2)), [reply, delivery.id])
    return reply


async def _earlier_reply(sid: str) -> str | None:
    """The reply given to the first delivery of `sid`, waiting for it if that delivery
    is still being answered (a replay racing the original)."""
    pause = 0.05
    deadline = asyncio.get_running_loop().time() + ENGINE_BUDGET_SECONDS + 1
    while True:
        earlier = await InboundMessage.get_or_none(channel=_SMS, external_id=sid)
        if earlier is None or earlier.reply is not None:
            return earlier.reply if earlier else None
        if asyncio.get_running_loop().time() >= deadline:
            # The first delivery died mid-way; its effect, if any, stands. Say nothing
            # rather than act twice.
            return None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def _reply(
    channel: SmsChannel, *, phone: str, form: MultiDictProxy[str], verdict: Verdict
) -> str:
    body = form.get("Body", "")
    keyword = carrier_keyword(body)
    # Opt-out is honoured whatever the rate limit says. Twilio has already answered
    # STOP and START itself (and would refuse our reply to STOP with 21610).
    if keyword is Keyword.OPT_OUT:
        await contacts.set_opted_out(phone=phone, opted_out=True)
        log.info("sms from %s: opted out", mask_phone(phone))
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
                channel=Channel.SMS, phone=phone, text=text, default_provider_phone=default_provider
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
_FAILED = frozenset({"failed", "undelivered"})


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
        await _record_status(sid=sid[:64], state=state, error=form.get("ErrorCode"), key=key)
    except asyncio.CancelledError:
        raise
    except Exception:
        # Twilio does not retry status callbacks on errors; a 5xx would only add an
        # 11200 to the account's debugger.
        log.exception("twilio status %s for %s: not recorded", state, sid)
    return web.Response(status=204)


async def _record_status(*, sid: str, state: str, error: str | None, key: str | None) -> None:
    messages = OutboxMessage.filter(external_id=sid)
    if key and not await messages.exists():
        # The sending process may have died between Twilio accepting the message and
        # recording its sid: the key in the callback URL still finds the row.
        messages = OutboxMessage.filter(idempotency_key=key)
        await messages.filter(external_id__isnull=True).update(external_id=sid)
    now = utcnow()
    # Any report at all means Twilio has the message: a row still pending (its sender
    # died mid-send) is sent, and must not go out again when its lease runs out.
    await messages.filter(status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENT, sent_at=now, sending_started_at=None
    )
    # Reports can arrive out of order: a later stage is never overwritten by an earlier.
    for row_id, recorded in await messages.values_list("id", "delivery_status"):
        if supersedes(state, recorded):
            changes: dict[str, object] = {"delivery_status": state[:16]}
            if state == "delivered":
                changes["delivered_at"] = now
            await OutboxMessage.filter(id=row_id).update(**changes)
    if state in _FAILED:
        reason = f"carrier: {state}" + (f" (error {error})" if error else "")
        await messages.update(status=OutboxStatus.FAILED, last_error=reason)
        if error and error.strip() == str(OPTED_OUT_CODE):
            for phone in await messages.values_list("recipient", flat=True):
                await contacts.set_opted_out(phone=str(phone), opted_out=True)
