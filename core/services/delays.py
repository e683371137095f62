"""DELAY n [note]: the provider runs n minutes behind today. Stored on its row for its
local day (waits quoted that day include it; another day ignores it) and told to each
customer waiting today through the outbox, in the same transaction."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from core.models import Appointment, OutboxMessage, ServiceAccount
from core.rules import notice_texts
from core.rules.days import today_in, utcnow
from core.services import line_events, line_order
from core.services.outbox.enqueue import enqueue

# Recipients are read in pages so a long line never sits in memory at once.
_PAGE = 500


async def set_delay(
    *, account: ServiceAccount, minutes: int, note: str | None = None, now: datetime | None = None
) -> int:
    """Record the day's delay and tell everyone waiting today; how many were told now.

    DELAY 0 clears it and tells no one (their next STATUS shows the shorter wait). The
    same delay sent again tells no one twice: each notice's key is the appointment and
    the minutes.
    """
    now = now or utcnow()
    today = today_in(account.timezone, now=now)
    told = 0
    async with in_transaction("default") as conn:
        await (
            ServiceAccount.filter(id=account.id)
            .using_db(conn)
            .update(delay_minutes=minutes or None, delay_day=today if minutes else None)
        )
        # No appointment row changes: the screens' version poll would not see it.
        line_events.changed(account.id, today)
        if not minutes:
            return 0
        text = notice_texts.running_behind(place_name=account.name, minutes=minutes, note=note)
        after = 0
        while True:
            page = (
                await Appointment.filter(
                    service_account_id=account.id, day=today, id__gt=after, **line_order.ORM_WAITING
                )
                .using_db(conn)
                .order_by("id")
                .limit(_PAGE)
                .values_list("id", "user__phone")
            )
            keys = {f"delay:{appointment_id}:{minutes}": phone for appointment_id, phone in page}
            # Those told this delay already are not told again, nor counted.
            sent = {
                str(key)
                for (key,) in await OutboxMessage.filter(idempotency_key__in=list(keys))
                .using_db(conn)
                .values_list("idempotency_key")
            }
            for key, phone in keys.items():
                if key not in sent:
                    await enqueue(
                        conn=conn, recipient=phone, text=text, idempotency_key=key, now=now,
                        service_account_id=account.id,
                    )
            told += len(keys) - len(sent)
            if len(page) < _PAGE:
                break
            after = page[-1][0]
    account.delay_minutes, account.delay_day = minutes, today
    return told
