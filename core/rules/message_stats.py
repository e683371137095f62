"""What a provider's messages cost: how many went out on each channel, the SMS segments
they took, and an estimate of their price (SMS_PRICE_PER_SEGMENT).

Counted are the proactive messages about the provider's lines that a channel accepted
(the outbox's sent rows), on the channel that carried them: a notice that failed on
WhatsApp and went by SMS counts once, as an SMS. Replies to inbound messages are not
counted: they answer a phone, not a line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from core.rules.gsm import segments

SMS = "sms"


@dataclass(frozen=True, slots=True)
class MessageFigures:
    # Messages sent per channel ("sms", "whatsapp", "telegram"), only channels used.
    sent: dict[str, int]
    sms_segments: int
    # sms_segments at the price of one; None when no price is set.
    estimated_cost: Decimal | None

    @property
    def total(self) -> int:
        return sum(self.sent.values())


NO_MESSAGES = MessageFigures(sent={}, sms_segments=0, estimated_cost=None)


@dataclass
class MessageTally:
    """Messages added one at a time, so a long range is never held whole."""

    _sent: Counter[str] = field(default_factory=Counter)
    _segments: int = 0

    def add(self, *, channel: str, text: str) -> None:
        self._sent[channel] += 1
        if channel == SMS:
            self._segments += segments(text)

    def figures(self, *, price_per_segment: Decimal | None) -> MessageFigures:
        cost = None if price_per_segment is None else price_per_segment * self._segments
        return MessageFigures(
            sent=dict(sorted(self._sent.items())), sms_segments=self._segments, estimated_cost=cost
        )
