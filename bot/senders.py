"""The port through which the outbox dispatcher delivers a proactive message.

Each channel (SMS, Telegram, console, a test sink) provides one Sender.
"""

from __future__ import annotations

from typing import Protocol

from core.models import Channel


class DeliveryError(Exception):
    """A send that did not go through."""


class RetryLater(DeliveryError):
    """A temporary failure (rate limit, 5xx, network): try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Undeliverable(DeliveryError):
    """A permanent failure: never retry. `opted_out` means the recipient refused messages."""

    def __init__(self, reason: str, *, opted_out: bool = False) -> None:
        super().__init__(reason)
        self.opted_out = opted_out


class Sender(Protocol):
    channel: Channel

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        """Deliver `text`; return the channel's message id if it gives one."""
        ...
