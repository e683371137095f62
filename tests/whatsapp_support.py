"""Fixtures for the WhatsApp tests: the app with SMS and WhatsApp on the same fake
Twilio, the real engine, and a dispatcher over both Transports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from core.models import Channel, InboundRate
from core.rules.days import utcnow
from core.rules.gsm import fits_one_segment
from core.services import service_accounts
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.transport import Transport
from tests.sms_support import PROVIDER_PHONE, Sms, one_reply, replies_in, sms_settings, start_sms

# The sender Twilio's WhatsApp sandbox uses.
WHATSAPP_NUMBER = "+14155238886"


async def start_whatsapp(
    aiohttp_client: Any, database_url: str, twilio_api: Any, **overrides: Any
) -> Sms:
    settings = sms_settings(
        database_url, twilio_api.url, twilio_whatsapp_from=f"whatsapp:{WHATSAPP_NUMBER}", **overrides
    )
    return await start_sms(aiohttp_client, settings, twilio_api, engine=None)


@pytest.fixture(name="wa")
async def wa_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    """The app with SMS and WhatsApp on, and the real engine."""
    return await start_whatsapp(aiohttp_client, database_url, twilio_api)


async def whatsapp(wa: Sms, sender: str, body: str) -> str:
    """The one reply to a WhatsApp message (same wording as by SMS: one segment)."""
    [reply] = await replies_in(await wa.twilio.whatsapp(sender=sender, body=body, to=WHATSAPP_NUMBER))
    assert fits_one_segment(reply), reply
    return reply


def transports(wa: Sms) -> dict[Channel, Transport]:
    from webhooks.sms import SMS

    channel = wa.client.app[SMS]
    return {Channel.SMS: channel.transport, Channel.WHATSAPP: channel.whatsapp}


async def deliver(wa: Sms, *, fallback: Channel | None = Channel.SMS) -> None:
    """Run a dispatcher over the app's SMS and WhatsApp transports until nothing is due."""
    dispatcher = Dispatcher(transports(wa), fallback=fallback)
    while await dispatcher.run_once():
        pass


async def last_wrote_on_whatsapp(phone: str, at: datetime) -> None:
    """As if `phone`'s last WhatsApp message came at `at`."""
    await InboundRate.filter(channel=Channel.WHATSAPP.value, phone=phone).update(window_start=at)


async def window_closes(phone: str) -> None:
    await last_wrote_on_whatsapp(phone, utcnow() - timedelta(hours=24, minutes=1))


async def zen_spa() -> None:
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")


async def joins(wa: Sms, phone: str, name: str, *, on_whatsapp: bool = True) -> None:
    """`phone` joins Zen Spa's line as `name`, by WhatsApp or by SMS."""
    say = whatsapp if on_whatsapp else one_reply
    await say(wa, phone, "join SPA")
    await say(wa, phone, name)
