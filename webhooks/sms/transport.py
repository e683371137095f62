"""Outbound SMS through Twilio's Messages API: the outbox's Transport for the SMS channel.

Every failure becomes `RetryLater` (429, 5xx, network, timeout: webhooks.sms.twilio_http)
or `Undeliverable` (any other 4xx; 21610 means the recipient opted out at the carrier).

Twilio's Messages API takes no idempotency key. What keeps an SMS from going out twice
after a send whose outcome is unknown (the process died mid-request, a timeout, a 5xx)
is `find_sent`: before sending again, the outbox looks the message up in Twilio's
message list (same To, same From or Messaging Service, same body, created since the
first unknown attempt) and, if Twilio has it, records it as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from core.models import Channel
from core.rules.delivery import SendBudget
from core.rules.phones import mask_phone
from core.services.outbox.transport import Refused, RetryLater, Undeliverable
from core.settings import Settings
from webhooks.sms.pacing import NumberPacer

log = logging.getLogger(__name__)

STATUS_PATH = "/webhooks/twilio/status"

# Twilio error code for "Attempt to send to unsubscribed recipient".
OPTED_OUT_CODE = 21610
# Twilio's codes for a number that cannot take an SMS at all: not a valid phone number,
# not a mobile number, no route to it; and, in delivery reports, an unknown handset and
# a landline or unreachable carrier.
UNREACHABLE_CODES = frozenset({21211, 21612, 21614, 30005, 30006})
# WhatsApp: "outside the allowed window" (free-form messages only within 24 hours of the
# customer's last message).
OUTSIDE_WINDOW_CODE = 63016

# The longest wait for a pacing slot is one half of the outbox's send budget
# (OUTBOX_SEND_TIMEOUT, core.rules.delivery.SendBudget), the request the other: a paced
# send is handed back before it could be cut off mid-wait and counted as a failed
# attempt, and it ends while its claim holds.
MAX_PACING_WAIT = SendBudget().pacing_wait

# How many of the recipient's latest messages from us find_sent reads (newest first),
# and how many per request. One phone gets a few messages from us a day; a lookup only
# happens after a send with an unknown outcome.
LOOKUP_LIMIT = 200
LOOKUP_PAGE_SIZE = 100


class TwilioSmsTransport:
    """Sends one outbox message as one SMS; returns Twilio's MessageSid.

    A subclass sends over another of Twilio's channels by addressing both ends in its
    form (`address`, webhooks.sms.whatsapp)."""

    channel = Channel.SMS

    def __init__(
        self,
        *,
        client: Client,
        pacer: NumberPacer,
        max_pacing_wait: float = MAX_PACING_WAIT,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback_url: str | None,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("a from number or a messaging service SID is required")
        self._client = client
        self._pacer = pacer
        self._max_pacing_wait = max_pacing_wait
        self._from = from_number
        self._service = messaging_service_sid
        self._status_callback_url = status_callback_url
        # Each channel's sender has its own turns, a service's WhatsApp sends included.
        self._pacing_key = self.address(from_number or messaging_service_sid or "")

    def address(self, phone: str) -> str:
        """How Twilio's API names `phone` on this channel."""
        return phone

    async def refusal(self, recipient_phone: str) -> str | None:
        """Why the channel may not carry a message to `recipient_phone` now (None: it may)."""
        return None

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        refused = await self.refusal(recipient_phone)
        if refused is not None:
            raise Refused(refused)
        await self._pacer.take_turn(self._pacing_key, max_wait=self._max_pacing_wait)
        options: dict[str, Any] = {"to": self.address(recipient_phone), "body": text}
        if self._from:
            options["from_"] = self.address(self._from)
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
            "to": self.address(recipient_phone),
            "limit": LOOKUP_LIMIT,
            "page_size": LOOKUP_PAGE_SIZE,
        }
        if self._from:
            options["from_"] = self.address(self._from)
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
    if code == OUTSIDE_WINDOW_CODE:
        return Refused(f"twilio {OUTSIDE_WINDOW_CODE}: outside the 24 h window")
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
    return Undeliverable(
        f"twilio {exc.status} error {code}: {str(exc.msg)[:200]}",
        unreachable=code in UNREACHABLE_CODES,
    )


def outbound_problem(settings: Settings) -> str | None:
    """Why outbound SMS cannot work with these settings, or None if it can."""
    if settings.twilio_auth_token is None:
        return "TWILIO_AUTH_TOKEN is not set"
    if not settings.twilio_account_sid:
        return "TWILIO_ACCOUNT_SID is not set"
    if not settings.twilio_from_number and not settings.twilio_messaging_service_sid:
        return "neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID is set"
    return None
