"""Delivers the outbox: claims due messages, sends them through their channel's Sender.

Several processes may run a dispatcher against one database. A message is claimed by
bumping its attempt counter and pushing its next attempt time out by a lease, in a
transaction that reads the rows with FOR UPDATE SKIP LOCKED on PostgreSQL; the bump is
conditional on the counter it read, so two claimers never both win even where row
locks do not exist (SQLite).

The lease is just longer than one send's timeout (core.rules.delivery.SendBudget, set
by OUTBOX_SEND_TIMEOUT), and a claim is renewed before each call to the channel: a
message still in its sender's hands (waiting for its pacing slot included) is never
taken over, and one whose sender died is free again soon after.

The claim also sets `sending_started_at`, and recording any outcome clears it. A
process that dies mid-send leaves it set, and the row is claimed again when the lease
runs out; so do a timeout and a dropped connection (RetryLater with outcome_unknown).
Before sending such a message again the dispatcher asks the channel whether the earlier
attempt went through (FindsSent.find_sent); if it did, the row is marked sent with the
channel's id and nothing is sent. SMS does this against Twilio's message list, so SMS
delivery is exactly once across crashes. Telegram cannot (the Bot API has no lookup of
sent messages): a Telegram message whose send was cut off is sent again, at least once.

Proactive messages go stale: one older than `max_age` (core.rules.delivery) is skipped,
not sent. A sender that hands a message back unsent because of its own pacing
(HandBack) does not use up one of the message's attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from bot.senders import FindsSent, HandBack, RetryLater, Sender, Undeliverable
from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.backoff import retry_delay
from core.rules.days import utcnow
from core.rules.delivery import DEFAULT_MAX_AGE, DEFAULT_SEND_TIMEOUT, SendBudget, too_old
from core.rules.phones import mask_phone
from core.services import contacts, outbox

log = logging.getLogger(__name__)

# How far before an unknown attempt began a match at the channel still counts: the
# channel's clock and ours differ a little, and Twilio's timestamps have whole seconds.
CLOCK_SKEW = timedelta(seconds=30)


@dataclass
class Claim:
    message: OutboxMessage
    # When the earliest attempt whose outcome is unknown began; None if there is none.
    unknown_since: datetime | None
    # When the claim's lease was last set (at the claim, or renewed).
    leased_at: datetime


class Dispatcher:
    def __init__(
        self,
        senders: Mapping[Channel, Sender],
        *,
        poll_interval: float = 0.25,
        batch_size: int = 50,
        max_attempts: int = 8,
        recipient: str | None = None,
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        base_backoff: float = 1.0,
        max_backoff: float = 900.0,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
    ) -> None:
        """`recipient` restricts this dispatcher to one phone (a console session must not
        print, and so consume, messages meant for other people's consoles). Messages
        older than `max_age` are skipped (None: never). `send_timeout` bounds each call
        to a channel (OUTBOX_SEND_TIMEOUT); the claim lease derives from it."""
        self._senders = dict(senders)
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._recipient = recipient
        self._budget = SendBudget(send_timeout)
        self._lease = self._budget.lease
        self._send_timeout = send_timeout
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._max_age = max_age
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        self._wake = outbox.subscribe()
        self._task = asyncio.create_task(self._loop(), name="outbox-dispatcher")

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let the batch in hand finish (up to `grace` seconds), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if self._wake is not None:
                outbox.unsubscribe(self._wake)
                self._wake = None

    async def _loop(self) -> None:
        assert self._wake is not None
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.run_once()
                failures = 0
            except Exception:
                # The database is down or a bug: keep the server up and try again, slower.
                failures += 1
                log.exception("outbox dispatch failed (%d in a row)", failures)
                handled = 0
                await asyncio.sleep(min(self._poll_interval * 2**failures, 5.0))
            if handled >= self._batch_size or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def run_once(self) -> int:
        """Deliver the messages due now, once; return how many were handled."""
        claimed = await self._claim(utcnow())
        by_recipient: dict[str, list[Claim]] = {}
        for claim in claimed:
            by_recipient.setdefault(claim.message.recipient, []).append(claim)
        # One recipient's messages go in order ("you're next" before "your turn");
        # different recipients go concurrently.
        await asyncio.gather(*(self._deliver_all(batch) for batch in by_recipient.values()))
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claim]:
        if not self._senders:
            return []
        query = OutboxMessage.filter(
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=now,
            channel__in=[channel.value for channel in self._senders],
        )
        if self._recipient is not None:
            query = query.filter(recipient=self._recipient)
        claimed: list[Claim] = []
        async with in_transaction("default") as conn:
            rows = (
                await query.using_db(conn)
                .order_by("next_attempt_at", "id")
                .limit(self._batch_size)
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
                        next_attempt_at=now + self._lease,
                        # The earliest unknown attempt stays the one to look back to.
                        sending_started_at=unknown_since or now,
                    )
                )
                if won:
                    row.attempts += 1
                    row.sending_started_at = unknown_since or now
                    claimed.append(
                        Claim(message=row, unknown_since=unknown_since, leased_at=now)
                    )
        return claimed

    async def _deliver_all(self, claims: list[Claim]) -> None:
        for claim in claims:
            await self._deliver(claim)

    async def _deliver(self, claim: Claim) -> None:
        message = claim.message
        who = mask_phone(message.recipient)
        sender = self._senders[Channel(message.channel)]
        if not await self._renewed(claim):
            return
        if claim.unknown_since is not None and await self._reconciled(claim, sender):
            return
        if not await self._renewed(claim):
            return
        if await contacts.is_opted_out(phone=message.recipient):
            await self._finish(message, status=OutboxStatus.SKIPPED, last_error="opted out")
            return
        stale = too_old(created_at=message.created_at, now=utcnow(), max_age=self._max_age)
        if stale is not None:
            log.warning("outbox %s to %s skipped: %s", message.id, who, stale)
            await self._finish(message, status=OutboxStatus.SKIPPED, last_error=stale)
            return
        try:
            async with asyncio.timeout(self._send_timeout):
                external_id = await sender.send(
                    recipient_phone=message.recipient,
                    text=message.text,
                    idempotency_key=message.idempotency_key,
                )
        except Undeliverable as exc:
            log.warning("outbox %s to %s undeliverable: %s", message.id, who, exc)
            if exc.opted_out:
                await contacts.set_opted_out(phone=message.recipient, opted_out=True)
            await self._finish(message, status=OutboxStatus.FAILED, last_error=str(exc))
        except HandBack as exc:
            await self._hand_back(message, reason=str(exc), retry_after=exc.retry_after)
        except RetryLater as exc:
            await self._retry(
                message,
                reason=str(exc),
                retry_after=exc.retry_after,
                outcome_unknown=exc.outcome_unknown,
            )
        except TimeoutError:
            await self._retry(
                message, reason="send timed out", retry_after=None, outcome_unknown=True
            )
        except Exception as exc:
            log.exception("outbox %s to %s: sender raised", message.id, who)
            await self._retry(
                message,
                reason=f"{type(exc).__name__}: {exc}",
                retry_after=None,
                outcome_unknown=True,
            )
        else:
            await self._finish(
                message, status=OutboxStatus.SENT, sent_at=utcnow(), external_id=external_id
            )
            log.info("outbox %s sent to %s via %s", message.id, who, message.channel)

    async def _renewed(self, claim: Claim) -> bool:
        """Make sure the claim outlasts one more call to the channel: renew its lease if
        it was set a while ago (the messages before it in the batch took their time).
        False if the claim was lost (another process took the message over)."""
        now = utcnow()
        if now - claim.leased_at <= self._budget.renew_after:
            return True
        message = claim.message
        kept = await OutboxMessage.filter(
            id=message.id, status=OutboxStatus.PENDING, attempts=message.attempts
        ).update(next_attempt_at=now + self._lease)
        if not kept:
            log.info("outbox %s: claim lost to another process; not sending", message.id)
            return False
        claim.leased_at = now
        return True

    async def _reconciled(self, claim: Claim, sender: Sender) -> bool:
        """Settle a message whose earlier attempt has no known outcome: True if it is
        settled (the channel has it: marked sent; or the check failed: retry later),
        False if it must be sent (the channel has no record of it, or cannot tell)."""
        message = claim.message
        assert claim.unknown_since is not None
        who = mask_phone(message.recipient)
        if not isinstance(sender, FindsSent):
            log.info(
                "outbox %s to %s: an earlier %s send may have gone out; sending again",
                message.id, who, message.channel,
            )
            return False
        try:
            async with asyncio.timeout(self._send_timeout):
                found = await sender.find_sent(
                    recipient_phone=message.recipient,
                    text=message.text,
                    idempotency_key=message.idempotency_key,
                    since=claim.unknown_since - CLOCK_SKEW,
                )
        except Exception as exc:
            if not isinstance(exc, RetryLater | TimeoutError):
                log.exception("outbox %s to %s: looking up an earlier send failed", message.id, who)
            retry_after = exc.retry_after if isinstance(exc, RetryLater) else None
            # Sending now could send twice: keep the marker, look again later.
            await self._retry(
                message,
                reason=f"could not check an earlier attempt: {type(exc).__name__}: {exc}",
                retry_after=retry_after,
                outcome_unknown=True,
            )
            return True
        external_id = await self._unclaimed(message, found)
        if external_id is None:
            log.info("outbox %s to %s: the earlier attempt did not go out", message.id, who)
            return False
        await self._finish(
            message, status=OutboxStatus.SENT, sent_at=utcnow(), external_id=external_id
        )
        log.info(
            "outbox %s to %s: the earlier attempt went out (%s); not sent again",
            message.id, who, external_id,
        )
        return True

    @staticmethod
    async def _unclaimed(message: OutboxMessage, found: Sequence[str]) -> str | None:
        """The first of `found` that no other outbox row already accounts for (two
        notices with the same text to one phone must not both claim one SMS)."""
        if not found:
            return None
        taken = {
            str(sid)
            for sid in await OutboxMessage.filter(external_id__in=list(found))
            .exclude(id=message.id)
            .values_list("external_id", flat=True)
        }
        return next((sid for sid in found if sid not in taken), None)

    async def _hand_back(
        self, message: OutboxMessage, *, reason: str, retry_after: float | None
    ) -> None:
        """The sender did not try (pacing): give back the attempt and the claim.

        The attempt counter is also the claim's fence, so it goes back to a value an
        earlier claim held; only a process stalled past its lease (which outlasts the
        send timeout) could still write under that earlier claim, as it could anyway."""
        delay = retry_delay(
            attempts=1, retry_after=retry_after, base=self._base_backoff, cap=self._max_backoff
        )
        log.info("outbox %s handed back for %.1fs (%s)", message.id, delay, reason)
        await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(
            attempts=message.attempts - 1,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            # Nothing left our hands in this attempt, and a check before it (if any)
            # found nothing earlier either.
            sending_started_at=None,
        )

    async def _retry(
        self,
        message: OutboxMessage,
        *,
        reason: str,
        retry_after: float | None,
        outcome_unknown: bool = False,
    ) -> None:
        """Try again after a backoff. `outcome_unknown` keeps the in-flight marker, so
        the next attempt first asks the channel whether this one went out."""
        who = mask_phone(message.recipient)
        if message.attempts >= self._max_attempts:
            log.warning(
                "outbox %s to %s failed after %d attempts: %s",
                message.id, who, message.attempts, reason,
            )
            await self._finish(message, status=OutboxStatus.FAILED, last_error=reason)
            return
        delay = retry_delay(
            attempts=message.attempts,
            retry_after=retry_after,
            base=self._base_backoff,
            cap=self._max_backoff,
        )
        log.info("outbox %s to %s: retry in %.1fs (%s)", message.id, who, delay, reason)
        await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            last_error=reason[:1000],
            sending_started_at=message.sending_started_at if outcome_unknown else None,
        )

    async def _finish(
        self,
        message: OutboxMessage,
        *,
        status: OutboxStatus,
        last_error: str | None = None,
        sent_at: datetime | None = None,
        external_id: str | None = None,
    ) -> None:
        # Conditional on our claim: if the lease ran out and another process took the
        # message over, its outcome is the one that counts.
        changes: dict[str, object] = {"status": status, "sending_started_at": None}
        if last_error is not None:
            changes["last_error"] = last_error[:1000]
        if sent_at is not None:
            changes["sent_at"] = sent_at
        if external_id is not None:
            changes["external_id"] = external_id[:64]
        await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(**changes)
