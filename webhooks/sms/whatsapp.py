"""WhatsApp through the Twilio account the SMS channel uses.

Twilio names a WhatsApp end as `whatsapp:+14155550101`, in the webhook's From and To
and in the Messages API; everything else (the signed webhook, TwiML replies, the
client, status callbacks) is the SMS channel's. What differs: the channel is
Channel.WHATSAPP, Twilio acts on no opt-out words there (STOP and START are the
engine's, CANCEL leaves the line), and a free-form message may go only inside the
customer's 24 h window (core.rules.whatsapp), checked as each message is sent: a
message outside it is `Refused` without a request, and the outbox moves it to SMS.
"""

from __future__ import annotations

from twilio.rest import Client

from core.models import Channel
from core.rules.days import utcnow
from core.rules.whatsapp import window_open
from core.services import contacts
from core.settings import Settings
from webhooks.sms.pacing import NumberPacer
from webhooks.sms.transport import TwilioSmsTransport

PREFIX = "whatsapp:"
OUTSIDE_WINDOW = "outside the 24 h window"


def split_address(raw: str) -> tuple[Channel, str]:
    """The channel and the bare number of a webhook's From or To."""
    value = raw.strip()
    if value[: len(PREFIX)].lower() == PREFIX:
        return Channel.WHATSAPP, value[len(PREFIX) :]
    return Channel.SMS, value


class TwilioWhatsAppTransport(TwilioSmsTransport):
    """Sends one outbox message as one WhatsApp message, inside the customer's window."""

    channel = Channel.WHATSAPP

    def address(self, phone: str) -> str:
        return PREFIX + phone

    async def refusal(self, recipient_phone: str) -> str | None:
        wrote = await contacts.last_wrote(phone=recipient_phone, channel=Channel.WHATSAPP)
        return None if window_open(wrote_at=wrote, now=utcnow()) else OUTSIDE_WINDOW


def whatsapp_transport(
    settings: Settings,
    *,
    client: Client,
    pacer: NumberPacer,
    max_pacing_wait: float,
    status_callback_url: str | None,
) -> TwilioWhatsAppTransport | None:
    """The WhatsApp Transport over the SMS channel's client, when a WhatsApp sender
    (TWILIO_WHATSAPP_FROM) or a Messaging Service is set; None otherwise."""
    sender = settings.twilio_whatsapp_from
    if sender is None and not settings.twilio_messaging_service_sid:
        return None
    return TwilioWhatsAppTransport(
        client=client,
        pacer=pacer,
        max_pacing_wait=max_pacing_wait,
        from_number=sender,
        messaging_service_sid=None if sender else settings.twilio_messaging_service_sid,
        status_callback_url=status_callback_url,
    )
