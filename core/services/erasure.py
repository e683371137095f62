"""Erasing a person: every row that holds their phone, in one transaction.

Their user row takes its appointments with it (and with those the status links, grace
timers and undo snapshots; their running scores too: foreign keys cascade). The rest
is found by phone, and by the keys a Telegram chat of theirs used before it was
linked ("tg<chat id>"). Messages sent to others that quote the full number (which no
text of ours does: notices mask it) have it replaced by the mask, and stored answers
of the admin API that quote it go. The daily message counts hold no phone and stay.

The inbound records and the outbox have no index on the phone (it would cost every
message), so an erasure reads those two tables whole: seconds at millions of rows,
for a request that is rare.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.models import (
    Contact,
    Conversation,
    InboundMessage,
    InboundRate,
    OutboxMessage,
    SignInCode,
    StaffPhone,
    TelegramLink,
    User,
)
from core.rules.phones import mask_phone
from core.services.statements import bind

_QUOTING = [
    "DELETE FROM conversations WHERE CAST(data AS TEXT) LIKE {quoted}",
    "DELETE FROM idempotency_records WHERE body LIKE {quoted}",
    "UPDATE inbound_messages SET reply = REPLACE(REPLACE(reply, {phone}, {masked}), "
    "{digits}, {masked}) WHERE reply LIKE {quoted}",
    "UPDATE outbox SET text = REPLACE(REPLACE(text, {phone}, {masked}), {digits}, {masked}) "
    "WHERE text LIKE {quoted}",
]


async def _quoting(conn: BaseDBAsyncClient, phone: str) -> None:
    digits = phone.lstrip("+")
    values = {
        "phone": phone,
        "digits": digits,
        "masked": mask_phone(phone),
        "quoted": f"%{digits}%",
    }
    for statement in _QUOTING:
        await conn.execute_query(*bind(conn, statement, values))


async def erase_person(*, phone: str) -> dict[str, int]:
    """Delete everything held about `phone` (canonical E.164); return the rows that went
    per table (those that held the phone itself; cascades and rewrites not counted)."""
    async with in_transaction("default") as tx:
        chats = (
            await TelegramLink.filter(phone=phone).using_db(tx).values_list("chat_id", flat=True)
        )
        keys = [phone, *(f"tg{chat}" for chat in chats)]
        erased = {
            "users": await User.filter(phone=phone).using_db(tx).delete(),
            "outbox": await OutboxMessage.filter(recipient__in=keys).using_db(tx).delete(),
            "inbound_messages": await InboundMessage.filter(phone__in=keys).using_db(tx).delete(),
            "inbound_rates": await InboundRate.filter(phone__in=keys).using_db(tx).delete(),
            "conversations": await Conversation.filter(phone__in=keys).using_db(tx).delete(),
            "contacts": await Contact.filter(phone=phone).using_db(tx).delete(),
            "telegram_links": await TelegramLink.filter(phone=phone).using_db(tx).delete(),
            "console_codes": await SignInCode.filter(phone=phone).using_db(tx).delete(),
            "staff_phones": await StaffPhone.filter(phone=phone).using_db(tx).delete(),
        }
        await _quoting(tx, phone)
    return erased
