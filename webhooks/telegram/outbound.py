"""Sending to Telegram: one path for direct replies and the outbox, with PTB's errors
mapped onto the outbox's two outcomes (try later / never)."""

from __future__ import annotations

import datetime as dtm
import logging

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from core.models import Channel
from core.services.outbox.transport import RetryLater, Undeliverable
from webhooks.telegram import keyboards, links
from webhooks.telegram.pacing import BotPacer

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

# Waiting for a pacing slot longer than this is better spent rescheduling the message
# (never longer than the send budget's pacing wait: see TelegramTransport).
OUTBOX_MAX_WAIT = 5.0
REPLY_MAX_WAIT = 10.0


def retry_after_seconds(exc: RetryAfter) -> float:
    # A timedelta under PTB_TIMEDELTA=1 (set in webhooks.telegram); an int otherwise.
    value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


async def send_text(
    bot: Bot,
    pacer: BotPacer,
    *,
    chat_id: int,
    text: str,
    reply_markup: Markup | None = None,
    max_wait: float = OUTBOX_MAX_WAIT,
    per_chat: bool = True,
) -> Message:
    """Send `text` to `chat_id`, paced (`per_chat` False: by the overall limit only).
    Raises RetryLater or Undeliverable."""
    await pacer.take_turn(chat_id if per_chat else None, max_wait=max_wait)
    try:
        return await bot.send_message(chat_id=chat_id, text=text, reply_markup=reply_markup)
    except RetryAfter as exc:
        seconds = retry_after_seconds(exc)
        await pacer.pause(seconds)
        raise RetryLater("Telegram flood control", retry_after=seconds) from exc
    except Forbidden as exc:
        # Blocked by the user (or a deactivated account): nothing will reach them until
        # they write to us again, so stop trying.
        await links.set_reachable(chat_id, False)
        raise Undeliverable(f"Telegram refused: {exc.message}") from exc
    except ChatMigrated as exc:
        raise Undeliverable("the chat became a supergroup") from exc
    except BadRequest as exc:
        # The same request will be refused again; "chat not found" also means the link is dead.
        if "chat not found" in exc.message.lower():
            await links.set_reachable(chat_id, False)
        raise Undeliverable(f"Telegram refused the message: {exc.message}") from exc
    except (NetworkError, InvalidToken) as exc:
        # Network trouble, a Telegram 5xx, or a token being rotated: the outbox retries.
        raise RetryLater(f"Telegram unavailable: {type(exc).__name__}") from exc
    except TelegramError as exc:
        raise RetryLater(f"Telegram error: {exc.message}") from exc


class TelegramTransport:
    """The outbox's Telegram transport: proactive messages to the phone's linked chat."""

    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot, pacer: BotPacer, *, max_wait: float = OUTBOX_MAX_WAIT) -> None:
        """`max_wait` bounds the wait for a pacing slot; it must fit in the outbox's send
        timeout with room for the request (core.rules.delivery.SendBudget.pacing_wait)."""
        self._bot = bot
        self._pacer = pacer
        self._max_wait = max_wait

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        chat_id = await links.chat_of(recipient_phone)
        if chat_id is None:
            raise Undeliverable("no reachable Telegram chat is linked to this phone")
        # "It's your turn ... text LEAVE if you can't make it": with the buttons for it.
        markup = await keyboards.for_notice(recipient_phone)
        message = await send_text(
            self._bot,
            self._pacer,
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            max_wait=self._max_wait,
        )
        return str(message.message_id)
