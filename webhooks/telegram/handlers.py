"""What the bot does with each update: link the chat to a phone, then hand text and
button presses to the conversation engine, keyed by that phone.

No dialogue state lives here or in PTB (ConversationHandler keeps it in one process's
memory): the engine keeps its own in the database, and so does the one Telegram-only
step, "share your phone first" (see `_remember_request`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from tortoise.transactions import in_transaction

from bot.engine import handle_message
from core.models import Channel, InboundMessage, ServiceAccount
from core.rules.days import utcnow
from core.rules.names import clean_name
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.services import conversations, users
from core.services.outbox.enqueue import enqueue
from core.services.outbox.transport import DeliveryError, RetryLater
from webhooks.telegram import keyboards, links, texts
from webhooks.telegram.outbound import REPLY_MAX_WAIT, Markup, send_text
from webhooks.telegram.pacing import BotPacer

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# What someone asked before sharing their phone waits in the dialogue table, keyed by
# chat, so any server process can carry on with it once they share.
_AWAITING_PHONE = "awaiting_phone"


def inbound_key(bot_id: int, update_id: int) -> str:
    # update_id counts per bot: with a new token the numbers start again.
    return f"{bot_id}:{update_id}"


def engine_text(text: str) -> str:
    """`/join SPA` -> `JOIN SPA`; `/no_show@waitlist_bot 2` -> `NO SHOW 2`; other text as is."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    word, _, rest = stripped[1:].partition(" ")
    word = word.split("@", 1)[0].replace("_", " ").upper()
    return f"{word} {rest.strip()}".strip() or "HELP"


def _is_start(text: str) -> bool:
    return text.strip().split("@", 1)[0].split(" ", 1)[0].lower() == "/start"


class TelegramBot:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        pacer: BotPacer,
        bot_id: int,
        *,
        wake: Callable[[], None],
    ) -> None:
        self._application = application
        self._pacer = pacer
        self._bot_id = bot_id
        self._wake = wake

    def register(self) -> None:
        # New messages only: an edit of an old "join" must not book a second time.
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        app = self._application
        app.add_handler(MessageHandler(private & filters.CONTACT, self.on_contact))
        app.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(private, self.on_other))
        app.add_handler(
            MessageHandler(~filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, self.on_group)
        )
        app.add_error_handler(self.on_error)

    # --- updates -------------------------------------------------------------------

    async def on_contact(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        assert message is not None
        assert message.contact is not None
        chat_id = message.chat_id
        contact = message.contact
        # Anyone can send a contact card they have; only the sender's own card proves the
        # number is theirs (Telegram verified it when they signed up).
        if user is None or contact.user_id is None or contact.user_id != user.id:
            log.info("telegram chat %s shared a contact that is not their own", chat_id)
            await self._reply(chat_id, texts.NOT_YOUR_CONTACT, keyboards.share_phone())
            return
        raw = contact.phone_number.strip()
        try:
            phone = normalize_phone(raw if raw.startswith("+") else f"+{raw}")
        except InvalidPhone:
            await self._reply(chat_id, texts.NO_PHONE_IN_CONTACT, keyboards.share_phone())
            return
        await links.link(chat_id=chat_id, telegram_user_id=user.id, phone=phone)
        log.info("telegram chat %s linked to %s", chat_id, mask_phone(phone))
        account = await ServiceAccount.get_or_none(phone=phone).only("name")
        if account is None:
            # The card carries the name Telegram shows: a new customer is not asked again.
            name = clean_name(" ".join(filter(None, (contact.first_name, contact.last_name))))
            if name is not None:
                await users.register(phone=phone, name=name)
        confirmation = (
            texts.LINKED_PROVIDER.format(name=account.name)
            if account is not None
            else texts.LINKED.format(tail=phone[-4:])
        )
        await self._reply(chat_id, confirmation, ReplyKeyboardRemove())
        request = await _take_request(chat_id)
        await self._converse(update, chat_id, phone, request or ("QUEUE" if account else "HELP"))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        chat_id = message.chat_id
        phone = await self._phone_of(chat_id)
        if phone is None:
            if not _is_start(message.text):
                await _remember_request(chat_id, engine_text(message.text))
            await self._reply(chat_id, texts.ASK_FOR_PHONE, keyboards.share_phone())
            return
        # /start is Telegram's "hello", not the SMS opt-in word START.
        text = "HELP" if _is_start(message.text) else engine_text(message.text)
        await self._converse(update, chat_id, phone, text)

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        # Answered first and always, or the user's client shows a spinner meanwhile.
        await _answer(query)
        await self._button(update, query)

    async def _button(self, update: Update, query: CallbackQuery) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE or not query.data:
            return
        phone = await self._phone_of(chat.id)
        if phone is None:
            await self._reply(chat.id, texts.ASK_FOR_PHONE, keyboards.share_phone())
            return
        data = query.data
        if data.startswith(keyboards.UI_PREFIX):
            markup = await keyboards.picker(data)
            if markup is not None:
                await _edit_markup(query, markup)
                return
            # Nothing to pick from: the engine says so in its own words.
            data = "JOIN"
        # The pressed keyboard has done its job; the reply brings fresh buttons.
        await _edit_markup(query, None)
        await self._converse(update, chat.id, phone, data)

    async def on_member(self, update: Update, context: Context) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        blocked = change.new_chat_member.status == ChatMemberStatus.BANNED
        await links.set_reachable(change.chat.id, not blocked)

    async def on_other(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is not None and update.effective_message is not None:
            await self._reply(chat.id, texts.TEXT_ONLY)

    async def on_group(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and message.text and message.text.startswith("/"):
            await self._reply(message.chat_id, texts.PRIVATE_ONLY)

    async def on_error(self, update: object, context: Context) -> None:
        # Only the kind of error: its text may hold a phone number or the bot token.
        error = context.error
        log.error(
            "telegram update %s failed: %s",
            update.update_id if isinstance(update, Update) else "?",
            type(error).__name__,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.type == ChatType.PRIVATE:
            await self._reply(chat.id, texts.TROUBLE)

    # --- helpers -------------------------------------------------------------------

    async def _phone_of(self, chat_id: int) -> str | None:
        phone = await links.phone_of(chat_id)
        if phone is not None:
            # Writing to us again means they have not blocked the bot (any more).
            await links.set_reachable(chat_id, True)
        return phone

    async def _converse(self, update: Update, chat_id: int, phone: str, text: str) -> None:
        reply = await handle_message(channel=Channel.TELEGRAM, phone=phone, text=text)
        self._wake()  # the engine's notices leave now
        key = inbound_key(self._bot_id, update.update_id)
        try:
            await self._send(chat_id, reply, await keyboards.after_reply(phone))
        except RetryLater as exc:
            # Flood control: the engine has acted, so its answer must not be lost. The
            # outbox delivers it as soon as Telegram allows, with fresh buttons.
            log.warning("telegram reply to chat %s deferred to the outbox: %s", chat_id, exc)
            async with in_transaction("default") as conn:
                await enqueue(
                    conn=conn,
                    recipient=phone,
                    text=reply,
                    idempotency_key=f"telegram-reply:{key}",
                    now=utcnow(),
                )
            self._wake()
        except DeliveryError as exc:
            log.warning("telegram reply to chat %s not sent: %s", chat_id, exc)
        await InboundMessage.filter(channel=Channel.TELEGRAM.value, external_id=key).update(
            phone=phone, reply=reply
        )

    async def _reply(self, chat_id: int, text: str, markup: Markup | None = None) -> None:
        try:
            await self._send(chat_id, text, markup)
        except DeliveryError as exc:
            log.warning("telegram reply to chat %s not sent: %s", chat_id, exc)

    async def _send(self, chat_id: int, text: str, markup: Markup | None) -> None:
        # A reply answers what the person just did: only the overall limit applies.
        await send_text(
            self._application.bot,
            self._pacer,
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            max_wait=REPLY_MAX_WAIT,
            per_chat=False,
        )


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError as exc:
        # Too late (queries expire) or already answered: the user has moved on anyway.
        log.info("callback query not answered: %s", type(exc).__name__)


async def _edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except TelegramError as exc:
        # The message is too old to edit, or already shows these buttons.
        log.info("keyboard not updated: %s", type(exc).__name__)


def _request_key(chat_id: int) -> str:
    # Not a phone (no "+"), so it never meets the engine's own dialogues.
    return f"tg{chat_id}"


async def _remember_request(chat_id: int, text: str) -> None:
    await conversations.save(
        channel=Channel.TELEGRAM,
        phone=_request_key(chat_id),
        state=_AWAITING_PHONE,
        data={"text": text[:1000]},
        now=utcnow(),
    )


async def _take_request(chat_id: int) -> str | None:
    key = _request_key(chat_id)
    dialogue = await conversations.load(channel=Channel.TELEGRAM, phone=key, now=utcnow())
    if dialogue is None:
        return None
    await conversations.clear(channel=Channel.TELEGRAM, phone=key)
    text = dialogue.data.get("text")
    return text if isinstance(text, str) and text.strip() else None
