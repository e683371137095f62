"""Which Telegram chat speaks for which phone.

Telegram never tells a bot a user's phone number; the user shares their own contact
card, and the chat is linked to that phone. One phone has at most one chat: a number
verified again from another Telegram account takes the link over (numbers get recycled).
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from core.models import TelegramLink


async def phone_of(chat_id: int) -> str | None:
    row = await TelegramLink.filter(chat_id=chat_id).only("phone").first()
    return row.phone if row is not None else None


async def chat_of(phone: str) -> int | None:
    """The chat to reach `phone` in, if it has one that has not blocked the bot."""
    row = await TelegramLink.filter(phone=phone, reachable=True).only("chat_id").first()
    return row.chat_id if row is not None else None


async def link(*, chat_id: int, telegram_user_id: int, phone: str) -> None:
    values = {"phone": phone, "telegram_user_id": telegram_user_id, "reachable": True}
    if not await TelegramLink.filter(chat_id=chat_id).update(**values):
        try:
            await TelegramLink.create(
                chat_id=chat_id, phone=phone, telegram_user_id=telegram_user_id
            )
        except IntegrityError:
            # The same chat linked concurrently (a double tap on the share button).
            await TelegramLink.filter(chat_id=chat_id).update(**values)
    await TelegramLink.filter(phone=phone).exclude(chat_id=chat_id).delete()


async def set_reachable(chat_id: int, reachable: bool) -> None:
    """False when the user blocked the bot (a 403, or Telegram's own notice); True when
    they unblock it or write to us again."""
    await TelegramLink.filter(chat_id=chat_id, reachable=not reachable).update(reachable=reachable)
