"""Where a multi-step dialogue stands, kept in the database so any process can resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from core.models import Channel, Conversation

IDLE_EXPIRY = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Dialogue:
    state: str
    data: dict[str, Any]


async def load(*, channel: Channel, phone: str, now: datetime) -> Dialogue | None:
    """The dialogue in progress, or None (an expired one counts as none)."""
    row = await Conversation.get_or_none(channel=channel.value, phone=phone)
    if row is None:
        return None
    if row.expires_at <= now:
        await Conversation.filter(id=row.id, expires_at=row.expires_at).delete()
        return None
    return Dialogue(state=row.state, data=dict(row.data or {}))


async def save(
    *, channel: Channel, phone: str, state: str, data: dict[str, Any], now: datetime
) -> None:
    values: dict[str, Any] = {"state": state, "data": data, "expires_at": now + IDLE_EXPIRY}
    updated = await Conversation.filter(channel=channel.value, phone=phone).update(**values)
    if updated:
        return
    try:
        await Conversation.create(channel=channel.value, phone=phone, **values)
    except IntegrityError:
        # A message from the same phone, handled by another process at the same moment.
        await Conversation.filter(channel=channel.value, phone=phone).update(**values)


async def clear(*, channel: Channel, phone: str) -> None:
    await Conversation.filter(channel=channel.value, phone=phone).delete()
