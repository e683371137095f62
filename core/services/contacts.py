"""Use cases for reaching a phone: opt-out (STOP / START), the channel it last used,
whether it can take an SMS at all, and when it last wrote on a channel."""

from __future__ import annotations

import contextlib
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from core.models import Channel, Contact, InboundRate
from core.rules.days import utcnow
from core.services import sql


async def _ensure(phone: str) -> None:
    """Create the contact row if missing; a concurrent creator winning the race is fine."""
    if await Contact.exists(phone=phone):
        return
    with contextlib.suppress(IntegrityError):
        await Contact.create(phone=phone)


async def set_opted_out(*, phone: str, opted_out: bool, now: datetime | None = None) -> None:
    """Record STOP (True) or START (False); only proactive messages are affected."""
    await _ensure(phone)
    await Contact.filter(phone=phone).update(
        opted_out=opted_out, opted_out_at=(now or utcnow()) if opted_out else None
    )


async def is_opted_out(*, phone: str, using_db: BaseDBAsyncClient | None = None) -> bool:
    contact = await Contact.get_or_none(phone=phone, using_db=using_db)
    return contact is not None and contact.opted_out


# One statement on every inbound message; it writes only when the channel changed. A
# phone that writes by SMS again can take an SMS after all.
_RECORD_CHANNEL = """
INSERT INTO contacts (phone, opted_out, preferred_channel, updated_at)
VALUES ({}, {}, {}, {})
ON CONFLICT (phone) DO UPDATE
SET preferred_channel = excluded.preferred_channel, updated_at = excluded.updated_at,
    sms_undeliverable = contacts.sms_undeliverable AND excluded.preferred_channel <> 'sms'
WHERE contacts.preferred_channel IS DISTINCT FROM excluded.preferred_channel
"""


async def record_channel(*, phone: str, channel: Channel, now: datetime | None = None) -> None:
    """Remember the channel a phone last wrote from: proactive messages go back that way."""
    conn = sql.connection()
    await conn.execute_query(
        _RECORD_CHANNEL.format(*sql.params(conn, 4)),
        [phone, False, channel.value, now or utcnow()],
    )


async def preferred_channel(
    *, phone: str, using_db: BaseDBAsyncClient | None = None
) -> Channel | None:
    contact = await Contact.get_or_none(phone=phone, using_db=using_db)
    if contact is None or contact.preferred_channel is None:
        return None
    try:
        return Channel(contact.preferred_channel)
    except ValueError:
        return None


async def set_sms_undeliverable(*, phone: str) -> None:
    """Twilio said the phone cannot take an SMS at all (not a mobile number, unknown)."""
    await _ensure(phone)
    await Contact.filter(phone=phone, sms_undeliverable=False).update(sms_undeliverable=True)


async def sms_possible(*, phone: str, using_db: BaseDBAsyncClient | None = None) -> bool:
    """Whether a proactive SMS may go to `phone`: not opted out, not known undeliverable."""
    contact = await Contact.get_or_none(phone=phone, using_db=using_db)
    return contact is None or not (contact.opted_out or contact.sms_undeliverable)


async def last_wrote(*, phone: str, channel: Channel) -> datetime | None:
    """A moment at which `phone` is known to have written on `channel` (None: never).

    The flood limit's row (core.services.deliveries) is bumped by every delivery and
    restarts its one-minute window with the first message after a quiet minute, so its
    window start is at most a minute before the phone's last message: reading it costs
    no write on the inbound path, and errs only towards "earlier".
    """
    rate = await InboundRate.get_or_none(channel=channel.value, phone=phone)
    return rate.window_start if rate is not None else None
