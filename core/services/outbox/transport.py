"""What a channel implements for the outbox: a Transport that delivers one message,
and the errors that tell the outbox what became of it.

Each channel (SMS, Telegram, console, a test sink) provides one Transport; it paces its
own sends. A channel that can look up what it has already sent also provides
`find_sent` (FindsSent): the outbox asks it before sending again a message whose
earlier attempt ended without a known outcome (the process died mid-send, the request
timed out), which makes delivery exactly once across crashes on that channel. Channels
without it (Telegram: the Bot API offers no lookup of sent messages) are sent again:
at least once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.models import Channel


class DeliveryError(Exception):
    """A send that did not go through."""


class RetryLater(DeliveryError):
    """A temporary failure (rate limit, 5xx, network): try again later.

    `outcome_unknown` says the request may have reached the channel and been acted on
    (a timeout, a dropped connection, a 5xx): the outbox checks with `find_sent`
    before trying again. False means the channel certainly did not send (a 429).
    """

    def __init__(
        self, reason: str, *, retry_after: float | None = None, outcome_unknown: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class HandBack(RetryLater):
    """The transport did not try at all (its pacing queue is too long): not a failed
    attempt, so it does not use up the message's attempts."""


class Undeliverable(DeliveryError):
    """A permanent failure on this channel: never retry here (the outbox may move the
    message to its fallback channel once). `opted_out` means the recipient refused
    messages; `unreachable` that the recipient's number cannot take this channel's
    messages at all (for SMS: not a valid or mobile number)."""

    def __init__(self, reason: str, *, opted_out: bool = False, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.opted_out = opted_out
        self.unreachable = unreachable


class Refused(Undeliverable):
    """The channel may not carry this message now and nothing was sent (WhatsApp outside
    its 24 h window): skipped, not failed, when no other channel takes it."""


class Transport(Protocol):
    """Delivers one outbox message over `channel`; raises a DeliveryError when it did not."""

    channel: Channel

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        """Deliver `text`; return the channel's message id if it gives one."""
        ...


@runtime_checkable
class FindsSent(Protocol):
    """Optional for a Transport: look up messages the channel already accepted."""

    async def find_sent(
        self, *, recipient_phone: str, text: str, idempotency_key: str, since: datetime
    ) -> Sequence[str]:
        """The channel's ids of messages it accepted for `recipient_phone` with this
        text (and key, where the channel keeps it) since `since`, oldest first; empty
        if none. Raises DeliveryError when it cannot tell: the caller must then not
        send again."""
        ...
