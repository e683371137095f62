"""The Twilio client of a running app and the outbox Transports over it: SMS, and
WhatsApp when a WhatsApp sender is set (webhooks.sms.whatsapp)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from twilio.rest import Client

from core.db import is_postgres
from core.settings import Settings
from webhooks.sms.pacing import NumberPacer
from webhooks.sms.transport import STATUS_PATH, TwilioSmsTransport, outbound_problem
from webhooks.sms.twilio_http import TwilioHttpClient
from webhooks.sms.whatsapp import whatsapp_transport


@dataclass(frozen=True, slots=True)
class TwilioTransports:
    """The Transports over one Twilio client: SMS, and WhatsApp when a sender is set."""

    sms: TwilioSmsTransport
    whatsapp: TwilioSmsTransport | None


@asynccontextmanager
async def twilio_sms_transport(
    settings: Settings, *, request_timeout: float | None = None
) -> AsyncIterator[TwilioSmsTransport]:
    """The SMS Transport alone (see `twilio_transports`)."""
    async with twilio_transports(settings, request_timeout=request_timeout) as transports:
        yield transports.sms


@asynccontextmanager
async def twilio_transports(
    settings: Settings, *, request_timeout: float | None = None
) -> AsyncIterator[TwilioTransports]:
    """The SMS (and WhatsApp) Transports with their HTTP session; enter it inside the
    running loop.

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
        # One pacer: each sender (a number, WhatsApp's sender, a service) has its own turns.
        pacer = NumberPacer(
            settings.sms_max_per_second, shared=is_postgres(settings.database_url)
        )
        sms = TwilioSmsTransport(
            client=client,
            pacer=pacer,
            max_pacing_wait=budget.pacing_wait,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=status_url,
        )
        whatsapp = whatsapp_transport(
            settings,
            client=client,
            pacer=pacer,
            max_pacing_wait=budget.pacing_wait,
            status_callback_url=status_url,
        )
        yield TwilioTransports(sms=sms, whatsapp=whatsapp)
    finally:
        await http.close()
