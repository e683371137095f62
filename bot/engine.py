"""The conversation engine: (channel, phone, text) in, reply text out."""

from __future__ import annotations

from core.models import Channel


async def handle_message(
    *,
    channel: Channel,
    phone: str,
    text: str,
    default_provider_phone: str | None = None,
) -> str:
    """Reply to one inbound message. Never raises, never returns an empty reply."""
    return "Text JOIN to get in line, STATUS for your place, LEAVE to leave."
