"""The SMS channel over Twilio: signed inbound webhook, TwiML replies, outbound Transport.

`setup(app)` registers the routes and, in `app.cleanup_ctx`, the Twilio client that
backs the outbox's SMS Transport. Without TWILIO_AUTH_TOKEN the channel is off: no route
is registered (so both answer 404) and start-up logs why.

    sms.setup(app)            # in create_app, before the outbox dispatcher's cleanup_ctx
    sms.transport_of(app)     # the outbox's Transport for Channel.SMS while the app runs, or None
    sms.whatsapp_transport_of(app)  # the same for Channel.WHATSAPP (TWILIO_WHATSAPP_FROM)

WhatsApp comes through the same webhooks (webhooks.sms.whatsapp).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from twilio.request_validator import RequestValidator

from core.rules.phones import InvalidPhone, normalize_phone
from core.services.outbox.transport import Transport
from webhooks.sms import routes
from webhooks.sms.routes import SMS, SmsChannel
from webhooks.sms.transport import (
    STATUS_PATH,
    TwilioSmsTransport,
    outbound_problem,
)
from webhooks.sms.transports import twilio_transports
from webhooks.state import SETTINGS

__all__ = [
    "INBOUND_PATH",
    "SMS",
    "STATUS_PATH",
    "SmsChannel",
    "TwilioSmsTransport",
    "setup",
    "transport_of",
    "whatsapp_transport_of",
]

log = logging.getLogger(__name__)

INBOUND_PATH = "/webhooks/twilio/sms"


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    token = settings.twilio_auth_token
    own: set[str] = set()
    if settings.twilio_from_number:
        with contextlib.suppress(InvalidPhone):
            own.add(normalize_phone(settings.twilio_from_number))
    if settings.twilio_whatsapp_from:
        own.add(settings.twilio_whatsapp_from)
    app[SMS] = SmsChannel(
        validator=RequestValidator(token.get_secret_value()) if token else None,
        # Settings refuse a token without PUBLIC_BASE_URL, so "" only when the channel is off.
        public_base_url=(settings.public_base_url or "").rstrip("/"),
        own_numbers=frozenset(own),
        off_reason=None if token else "TWILIO_AUTH_TOKEN is not set",
    )
    if token is not None:
        app.router.add_post(INBOUND_PATH, routes.inbound)
        app.router.add_post(STATUS_PATH, routes.status)
    app.cleanup_ctx.append(_sms_channel)


def transport_of(app: web.Application) -> Transport | None:
    """The SMS Transport, once start-up has run; None when outbound SMS is off."""
    channel = app.get(SMS)
    return channel.transport if channel is not None else None


def whatsapp_transport_of(app: web.Application) -> Transport | None:
    """The WhatsApp Transport, once start-up has run; None when outbound WhatsApp is off."""
    channel = app.get(SMS)
    return channel.whatsapp if channel is not None else None


async def _sms_channel(app: web.Application) -> AsyncIterator[None]:
    channel = app[SMS]
    if channel.off_reason is not None:
        log.info(
            "SMS channel off: %s; %s and %s answer 404",
            channel.off_reason,
            INBOUND_PATH,
            STATUS_PATH,
        )
        yield
        return
    async with _outbound(app, channel):
        yield


@contextlib.asynccontextmanager
async def _outbound(app: web.Application, channel: SmsChannel) -> AsyncIterator[None]:
    problem = outbound_problem(app[SETTINGS])
    if problem is not None:
        log.warning("SMS replies work, outbound SMS is off: %s", problem)
        yield
        return
    async with twilio_transports(app[SETTINGS]) as transports:
        channel.transport, channel.whatsapp = transports.sms, transports.whatsapp
        if transports.whatsapp is None:
            log.info(
                "WhatsApp messages are answered, but notices to customers who last wrote "
                "on WhatsApp wait: set TWILIO_WHATSAPP_FROM or TWILIO_MESSAGING_SERVICE_SID"
            )
        log.info(
            "SMS channel on%s: webhook %s%s",
            " with WhatsApp" if transports.whatsapp else "",
            channel.public_base_url,
            INBOUND_PATH,
        )
        try:
            yield
        finally:
            channel.transport = channel.whatsapp = None
