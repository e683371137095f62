"""Use cases for reaching a phone: opt-out (STOP / START) and the channel it last used."""

from __future__ import annotations

import contextlib
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from core.models import Channel, Contact
from core.rules.days import utcnow


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


async def record_channel(*, phone: str, channel: Channel) -> None:
    """Remember the channel a phone last wrote from: proactive messages go back that way."""
    updated = await Contact.filter(phone=phone).update(preferred_channel=channel.value)
    if updated:
        return
    try:
        await Contact.create(phone=phone, preferred_channel=channel.value)
    except IntegrityError:
        await Contact.filter(phone=phone).update(preferred_channel=channel.value)


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
