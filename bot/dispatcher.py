"""Delivers the outbox: claims due messages, sends them through their channel's Sender.

Several processes may run a dispatcher against one database. A message is claimed by
bumping its attempt counter and pushing its next attempt time out by a lease, in a
transaction that reads the rows with FOR UPDATE SKIP LOCKED on PostgreSQL; the bump is
conditional on the counter it read, so two claimers never both win even where row
locks do not exist (SQLite). A process that dies mid-send leaves the row to be retried
when the lease runs out: delivery is at least once across crashes, once otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from bot.senders import RetryLater, Sender, Undeliverable
from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.backoff import retry_delay
from core.rules.days import utcnow
from core.rules.phones import mask_phone
from core.services import contacts, outbox

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        senders: Mapping[Channel, Sender],
        *,
        poll_interval: float = 0.25,
        batch_size: int = 50,
        max_attempts: int = 8,
        recipient: str | None = None,
        lease_seconds: float = 120.0,
        send_timeout: float = 30.0,
        base_backoff: float = 1.0,
        max_backoff: float = 900.0,
    ) -> None:
        """`recipient` restricts this dispatcher to one phone (a console session must not
        print, and so consume, messages meant for other people's consoles)."""
        self._senders = dict(senders)
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._recipient = recipient
        self._lease = timedelta(seconds=lease_seconds)
        self._send_timeout = send_timeout
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
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
        by_recipient: dict[str, list[OutboxMessage]] = {}
        for message in claimed:
            by_recipient.setdefault(message.recipient, []).append(message)
        # One recipient's messages go in order ("you're next" before "your turn");
        # different recipients go concurrently.
        await asyncio.gather(*(self._deliver_all(batch) for batch in by_recipient.values()))
        return len(claimed)

    async def _claim(self, now: datetime) -> list[OutboxMessage]:
        if not self._senders:
            return []
        query = OutboxMessage.filter(
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=now,
            channel__in=[channel.value for channel in self._senders],
        )
        if self._recipient is not None:
            query = query.filter(recipient=self._recipient)
        claimed: list[OutboxMessage] = []
        async with in_transaction() as conn:
            rows = (
                await query.using_db(conn)
                .order_by("next_attempt_at", "id")
                .limit(self._batch_size)
                .select_for_update(skip_locked=True)
            )
            for row in rows:
                won = (
                    await OutboxMessage.filter(
                        id=row.id, status=OutboxStatus.PENDING, attempts=row.attempts
                    )
                    .using_db(conn)
                    .update(attempts=row.attempts + 1, next_attempt_at=now + self._lease)
                )
                if won:
                    row.attempts += 1
                    claimed.append(row)
        return claimed

    async def _deliver_all(self, messages: list[OutboxMessage]) -> None:
        for message in messages:
            await self._deliver(message)

    async def _deliver(self, message: OutboxMessage) -> None:
        who = mask_phone(message.recipient)
        if await contacts.is_opted_out(phone=message.recipient):
            await self._finish(message, status=OutboxStatus.SKIPPED, last_error="opted out")
            return
        sender = self._senders[Channel(message.channel)]
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
        except RetryLater as exc:
            await self._retry(message, reason=str(exc), retry_after=exc.retry_after)
        except TimeoutError:
            await self._retry(message, reason="send timed out", retry_after=None)
        except Exception as exc:
            log.exception("outbox %s to %s: sender raised", message.id, who)
            await self._retry(message, reason=f"{type(exc).__name__}: {exc}", retry_after=None)
        else:
            await self._finish(
                message, status=OutboxStatus.SENT, sent_at=utcnow(), external_id=external_id
            )
            log.info("outbox %s sent to %s via %s", message.id, who, message.channel)

    async def _retry(
        self, message: OutboxMessage, *, reason: str, retry_after: float | None
    ) -> None:
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
            next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=reason[:1000]
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
        changes: dict[str, object] = {"status": status}
        if last_error is not None:
            changes["last_error"] = last_error[:1000]
        if sent_at is not None:
            changes["sent_at"] = sent_at
        if external_id is not None:
            changes["external_id"] = external_id[:64]
        await OutboxMessage.filter(id=message.id, attempts=message.attempts).update(**changes)
