"""One inbound message, as the handlers see it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from core.models import Channel


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: Channel
    phone: str
    text: str
    default_provider_phone: str | None
    now: datetime
    # PUBLIC_BASE_URL, when set: join and STATUS replies then carry a status link.
    link_base: str | None = None
    # SMS_PRICE_PER_SEGMENT, when set: STATS then estimates what the SMS cost.
    sms_price: Decimal | None = None

    def with_text(self, text: str, *, default_provider_phone: str | None) -> Inbound:
        return replace(self, text=text, default_provider_phone=default_provider_phone)
