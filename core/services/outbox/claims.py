"""A message's life while a dispatcher holds it: claim, renew, hand back, retry, finish.

A message is claimed by bumping its attempt counter and pushing its next attempt time
out by a lease, in a transaction that reads the rows with FOR UPDATE SKIP LOCKED on
PostgreSQL; the bump is conditional on the counter it read, so two claimers never both
win even where row locks do not exist (SQLite). Every later write about the message is
conditional on that counter too: if the lease ran out and another process took the
message over, that process's outcome is the one that counts.

The claim also sets `sending_started_at`, and recording any outcome clears it. A
process that dies mid-send leaves it set, and so do a timeout and a dropped connection
(a retry with `outcome_unknown`): the next claim then carries `unknown_since`, and the
channel is asked whether the earlier attempt went out before it is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from core import metrics
from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.backoff import retry_delay
from core.rules.delivery import SendBudget
from core.rules.phones import mask_phone

log = logging.getLogger(__name__)


@dataclass
class Claim:
    message: OutboxMessage
    # When the earliest attempt whose outcome is unknown began; None if there is none.
    unknown_since: datetime | None
    # When the claim's lease was last set (at the claim, or renewed).
    leased_at: datetime


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often a message is tried, and how long it waits between tries."""

    max_attempts: int = 8
    base: float = 1.0
    cap: float = 900.0

    def delay(self, *, attempts: int, retry_after: float | None) -> timedelta:
        seconds = retry_delay(
            attempts=attempts, retry_after=retry_after, base=self.base, cap=self.cap
        )
        return timedelta(seconds=seconds)


async def claim(
    *,
    channels: Collection[Channel],
    now: datetime,
    lease: timedelta,
    limit: int,
    recipient: str | None = None,
) -> list[Claim]:
    """Claim up to `limit` messages due at `now` on `channels` (to `recipient` only, if
    given), oldest due first, each for `lease`."""
    if not channels:
        return []
    query = OutboxMessage.filter(
        status=OutboxStatus.PENDING,
        next_attempt_at__lte=now,
        channel__in=[channel.value for channel in channels],
    )
    if recipient is not None:
        query = query.filter(recipient=recipient)
    claimed: list[Claim] = []
    async with in_transaction("default") as conn:
        rows = (
            await query.using_db(conn)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for row in rows:
            unknown_since = row.sending_started_at
            won = (
                await OutboxMessage.filter(
                    id=row.id, status=OutboxStatus.PENDING, attempts=row.attempts
                )
                .using_db(conn)
                .update(
                    attempts=row.attempts + 1,
                    next_attempt_at=now + lease,
                    # The earliest unknown attempt stays the one to look back to.
                    sending_started_at=unknown_since or now,
                )
            )
            if won:
                row.attempts += 1
                row.sending_started_at = unknown_since or now
                claimed.append(Claim(message=row, unknown_since=unknown_since, leased_at=now))
    return claimed


async def renew(*, claim: Claim, budget: SendBudget, now: datetime) -> bool:
    """Make sure the claim outlasts one more call to the channel: renew its lease if it
    was set a while ago (the messages before it in the batch took their time). False if
    the claim was lost (another process took the message over)."""
    if now - claim.leased_at <= budget.renew_after:
        return True
    message = claim.message
    kept = await OutboxMessage.filter(
        id=message.id, status=OutboxStatus.PENDING, attempts=message.attempts
    ).update(next_attempt_at=now + budget.lease)
    if not kept:
        log.info("outbox %s: claim lost to another process; not sending", message.id)
        return False
    claim.leased_at = now
    return True


async def hand_back(
    *,
    message: OutboxMessage,
    reason: str,
    retry_after: float | None,
    backoff: Backoff,
    now: datetime,
) -> None:
    """The transport did not try (pacing): give back the attempt and the claim.

    The attempt counter is also the claim's fence, so it goes back to a value an earlier
    claim held; only a process stalled past its lease (which outlasts the send timeout)
    could still write under that earlier claim, as it could anyway."""
    delay = backoff.delay(attempts=1, retry_after=retry_after)
    log.info("outbox %s handed back for %.1fs (%s)", message.id, delay.total_seconds(), reason)
    await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(
        attempts=message.attempts - 1,
        next_attempt_at=now + delay,
        # Nothing left our hands in this attempt, and a check before it (if any) found
        # nothing earlier either.
        sending_started_at=None,
    )


async def retry(
    *,
    message: OutboxMessage,
    reason: str,
    retry_after: float | None,
    outcome_unknown: bool,
    backoff: Backoff,
    now: datetime,
) -> None:
    """Try again after a backoff, or fail the message once its attempts are used up.
    `outcome_unknown` keeps the in-flight marker, so the next attempt first asks the
    channel whether this one went out."""
    who = mask_phone(message.recipient)
    if message.attempts >= backoff.max_attempts:
        log.warning(
            "outbox %s to %s failed after %d attempts: %s",
            message.id, who, message.attempts, reason,
        )
        await finish(message=message, status=OutboxStatus.FAILED, last_error=reason)
        return
    delay = backoff.delay(attempts=message.attempts, retry_after=retry_after)
    log.info(
        "outbox %s to %s: retry in %.1fs (%s)", message.id, who, delay.total_seconds(), reason
    )
    await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(
        next_attempt_at=now + delay,
        last_error=reason[:1000],
        sending_started_at=message.sending_started_at if outcome_unknown else None,
    )


async def finish(
    *,
    message: OutboxMessage,
    status: OutboxStatus,
    last_error: str | None = None,
    sent_at: datetime | None = None,
    external_id: str | None = None,
) -> None:
    """Record the message's final outcome (sent, skipped, failed), under our claim."""
    changes: dict[str, object] = {"status": status, "sending_started_at": None}
    if last_error is not None:
        changes["last_error"] = last_error[:1000]
    if sent_at is not None:
        changes["sent_at"] = sent_at
    if external_id is not None:
        changes["external_id"] = external_id[:64]
    won = await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(**changes)
    if won:
        _count(message, status, sent_at)


def _count(message: OutboxMessage, status: OutboxStatus, sent_at: datetime | None) -> None:
    """The outcome in the metrics, once per message: only the claim that recorded it counts."""
    if status is OutboxStatus.SENT:
        metrics.sent_by[message.channel].inc()
        if sent_at is not None:
            # next_attempt_at as claimed: when the message fell due for this attempt.
            lag = (sent_at - message.next_attempt_at).total_seconds()
            metrics.lag_by[message.channel].observe(max(lag, 0.0))
    elif status is OutboxStatus.FAILED:
        metrics.failed_by[message.channel].inc()


async def unaccounted(*, message: OutboxMessage, found: Sequence[str]) -> str | None:
    """The first of the channel's ids `found` that no other outbox row already accounts
    for (two notices with the same text to one phone must not both claim one SMS)."""
    if not found:
        return None
    taken = {
        str(sid)
        for sid in await OutboxMessage.filter(external_id__in=list(found))
        .exclude(id=message.id)
        .values_list("external_id", flat=True)
    }
    return next((sid for sid in found if sid not in taken), None)
