"""Where a multi-step dialogue stands, kept in the database so any process can resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from core.models import Channel, Conversation
from core.services import sql

IDLE_EXPIRY = timedelta(minutes=30)
_DATA = Conversation._meta.fields_map["data"]


@dataclass(frozen=True, slots=True)
class Dialogue:
    state: str
    data: dict[str, Any]


async def load(*, channel: Channel, phone: str, now: datetime) -> Dialogue | None:
    """The dialogue in progress, or None (an expired one counts as none)."""
    row = await Conversation.get_or_none(channel=channel.value, phone=phone)
    if row is None:
        return None
    return await _unless_expired(row.id, row.state, row.data, row.expires_at, now)


async def from_stored(
    *, conversation_id: int, state: str, data: Any, expires_at: Any, now: datetime
) -> Dialogue | None:
    """What `load` answers, from a conversations row read raw (by another query):
    `data` as the database returns the JSON column, `expires_at` as its timestamp."""
    return await _unless_expired(
        conversation_id, state, _DATA.to_python_value(data), sql.as_datetime(expires_at), now
    )


async def _unless_expired(
    conversation_id: int, state: str, data: Any, expires_at: datetime, now: datetime
) -> Dialogue | None:
    if expires_at <= now:
        await Conversation.filter(id=conversation_id, expires_at=expires_at).delete()
        return None
    return Dialogue(state=state, data=dict(data or {}))


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
