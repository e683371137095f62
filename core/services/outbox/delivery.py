"""Delivering one claimed message through its channel's Transport, and recording what
became of it.

Before each call to the channel the claim is renewed, so a message still in its
transport's hands (waiting for its pacing slot included) is never taken over, and one
whose sender died is free again soon after (core.rules.delivery.SendBudget).

A claim whose earlier attempt has no known outcome is first reconciled: the channel is
asked whether that attempt went through (FindsSent.find_sent); if it did, the row is
marked sent with the channel's id and nothing is sent. SMS does this against Twilio's
message list, so SMS delivery is exactly once across crashes. Telegram cannot (the Bot
API has no lookup of sent messages): a Telegram message whose send was cut off is sent
again, at least once.

A permanent failure (Undeliverable, or Refused: the channel may not carry the message
now) moves the message once to the dispatcher's fallback channel when the recipient did
not opt out (core.services.outbox.failover); otherwise it is failed (Refused: skipped).

Proactive messages go stale: one older than `max_age` (core.rules.delivery) is skipped,
not sent. A transport that hands a message back unsent because of its own pacing
(HandBack) does not use up one of the message's attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.delivery import DEFAULT_MAX_AGE, SendBudget, too_old
from core.rules.phones import mask_phone
from core.services import contacts
from core.services.outbox import claims, failover
from core.services.outbox.claims import Backoff, Claim
from core.services.outbox.transport import (
    FindsSent,
    HandBack,
    Refused,
    RetryLater,
    Transport,
    Undeliverable,
)

log = logging.getLogger(__name__)

# How far before an unknown attempt began a match at the channel still counts: the
# channel's clock and ours differ a little, and Twilio's timestamps have whole seconds.
CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Terms:
    """How a dispatcher delivers: the time budget of one send (which sets the claim's
    lease), the backoff between tries, and the age past which a message is skipped
    (None: never)."""

    budget: SendBudget = field(default_factory=SendBudget)
    backoff: Backoff = field(default_factory=Backoff)
    max_age: timedelta | None = DEFAULT_MAX_AGE
    # Where a message that fails for good on its own channel goes once (None: nowhere).
    fallback: Channel | None = None


async def deliver(
    *, claim: Claim, transport: Transport, terms: Terms, clock: Callable[[], datetime]
) -> None:
    """Send the claimed message, or settle it without sending, and record the outcome."""
    message = claim.message
    who = mask_phone(message.recipient)
    if not await claims.renew(claim=claim, budget=terms.budget, now=clock()):
        return
    if claim.unknown_since is not None and await _reconciled(
        claim, transport=transport, terms=terms, clock=clock
    ):
        return
    if not await claims.renew(claim=claim, budget=terms.budget, now=clock()):
        return
    if await contacts.is_opted_out(phone=message.recipient):
        await claims.finish(message=message, status=OutboxStatus.SKIPPED, last_error="opted out")
        return
    stale = too_old(created_at=message.created_at, now=clock(), max_age=terms.max_age)
    if stale is not None:
        log.warning("outbox %s to %s skipped: %s", message.id, who, stale)
        await claims.finish(message=message, status=OutboxStatus.SKIPPED, last_error=stale)
        return

    async def retry(reason: str, retry_after: float | None, *, outcome_unknown: bool) -> None:
        await claims.retry(
            message=message,
            reason=reason,
            retry_after=retry_after,
            outcome_unknown=outcome_unknown,
            backoff=terms.backoff,
            now=clock(),
        )

    try:
        async with asyncio.timeout(terms.budget.send_timeout):
            external_id = await transport.send(
                recipient_phone=message.recipient,
                text=message.text,
                idempotency_key=message.idempotency_key,
            )
    except Undeliverable as exc:
        await _undeliverable(message, exc, terms=terms, now=clock())
    except HandBack as exc:
        await claims.hand_back(
            message=message,
            reason=str(exc),
            retry_after=exc.retry_after,
            backoff=terms.backoff,
            now=clock(),
        )
    except RetryLater as exc:
        await retry(str(exc), exc.retry_after, outcome_unknown=exc.outcome_unknown)
    except TimeoutError:
        await retry("send timed out", None, outcome_unknown=True)
    except Exception as exc:
        log.exception("outbox %s to %s: transport raised", message.id, who)
        await retry(f"{type(exc).__name__}: {exc}", None, outcome_unknown=True)
    else:
        await claims.finish(
            message=message, status=OutboxStatus.SENT, sent_at=clock(), external_id=external_id
        )
        log.info("outbox %s sent to %s via %s", message.id, who, message.channel)


async def _undeliverable(
    message: OutboxMessage, exc: Undeliverable, *, terms: Terms, now: datetime
) -> None:
    """Record a permanent failure on the message's channel, and move the message to the
    fallback channel once when the recipient did not opt out."""
    log.warning("outbox %s to %s undeliverable: %s", message.id, mask_phone(message.recipient), exc)
    if exc.opted_out:
        await contacts.set_opted_out(phone=message.recipient, opted_out=True)
    elif exc.unreachable and message.channel == Channel.SMS.value:
        await contacts.set_sms_undeliverable(phone=message.recipient)
    if not exc.opted_out and await failover.fail_over(
        message=message, reason=str(exc), to=terms.fallback, now=now
    ):
        return
    status = OutboxStatus.SKIPPED if isinstance(exc, Refused) else OutboxStatus.FAILED
    await claims.finish(message=message, status=status, last_error=str(exc))


async def _reconciled(
    claim: Claim, *, transport: Transport, terms: Terms, clock: Callable[[], datetime]
) -> bool:
    """Settle a message whose earlier attempt has no known outcome: True if it is
    settled (the channel has it: marked sent; or the check failed: retry later), False
    if it must be sent (the channel has no record of it, or cannot tell)."""
    message = claim.message
    assert claim.unknown_since is not None
    who = mask_phone(message.recipient)
    if not isinstance(transport, FindsSent):
        log.info(
            "outbox %s to %s: an earlier %s send may have gone out; sending again",
            message.id, who, message.channel,
        )
        return False
    try:
        async with asyncio.timeout(terms.budget.send_timeout):
            found = await transport.find_sent(
                recipient_phone=message.recipient,
                text=message.text,
                idempotency_key=message.idempotency_key,
                since=claim.unknown_since - CLOCK_SKEW,
            )
    except Exception as exc:
        if not isinstance(exc, RetryLater | TimeoutError):
            log.exception("outbox %s to %s: looking up an earlier send failed", message.id, who)
        # Sending now could send twice: keep the marker, look again later.
        await claims.retry(
            message=message,
            reason=f"could not check an earlier attempt: {type(exc).__name__}: {exc}",
            retry_after=exc.retry_after if isinstance(exc, RetryLater) else None,
            outcome_unknown=True,
            backoff=terms.backoff,
            now=clock(),
        )
        return True
    external_id = await claims.unaccounted(message=message, found=found)
    if external_id is None:
        log.info("outbox %s to %s: the earlier attempt did not go out", message.id, who)
        return False
    await claims.finish(
        message=message, status=OutboxStatus.SENT, sent_at=clock(), external_id=external_id
    )
    log.info(
        "outbox %s to %s: the earlier attempt went out (%s); not sent again",
        message.id, who, external_id,
    )
    return True
