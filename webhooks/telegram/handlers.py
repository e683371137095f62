"""What the bot does with each update: link the chat to a phone, then hand text and
button presses to the one inbound path (bot.inbox), keyed by that phone.

Every update is recorded by its update_id before anything it causes: Telegram
redelivers what it did not see a 200 for, for up to a day. The inbound path records
the updates it answers (with the flood limit's count); `_first_time` the others.

No dialogue state lives here (PTB's ConversationHandler would keep it in one process's
memory): the engine keeps its own in the database, and so does the one Telegram-only
step, "share your phone first" (see `_remember_request`).
"""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    CallbackQuery,
    ChatMemberUpdated,
    Contact,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot import inbox
from bot.reply import Reply
from core import locales
from core.locales import say
from core.models import Channel
from core.rules import languages
from core.rules.days import utcnow
from core.rules.names import clean_name
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.services import conversations, deliveries, service_accounts, users
from core.services.outbox.transport import DeliveryError, RetryLater
from webhooks.telegram import keyboards, links
from webhooks.telegram.outbound import REPLY_MAX_WAIT, Markup, send_text
from webhooks.telegram.pacing import BotPacer

log = logging.getLogger(__name__)

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


POLICY = inbox.ChannelPolicy(slow_down="slow_down_telegram", sorry="sorry", menus=True)


class TelegramBot:
    """Each update, once: the ones the engine answers go through the inbound path
    (bot.inbox), the others are recorded by update_id before anything they cause."""

    def __init__(self, bot: Bot, pacer: BotPacer, bot_id: int) -> None:
        self._bot = bot
        self._pacer = pacer
        self._bot_id = bot_id
        # The app's inbound path, given at start-up (TelegramChannel.start).
        self.inbox: inbox.Inbox | None = None

    async def handle(self, update: Update) -> bool:
        """Act on `update`; False for a redelivery, which changes nothing.

        The kind of update is told here rather than by PTB's handlers: each kind records
        the update its own way (through the inbound path, or `_first_time`), and the
        webhook answers whether it was a redelivery.
        """
        query = update.callback_query
        if query is not None:
            return await self._button(update, query)
        # New messages only: an edit of an old "join" must not book a second time.
        message = update.message
        if message is not None and message.chat.type == ChatType.PRIVATE:
            if message.contact is not None:
                return await self._contact(update, message, message.contact)
            if message.text:
                return await self._text(update, message, message.text)
        if not await self._first_time(update):
            return False
        if update.my_chat_member is not None:
            await self._member(update.my_chat_member)
        elif message is not None and message.chat.type == ChatType.PRIVATE:
            await self._reply(message.chat_id, _said(update, "tg_text_only"))
        elif message is not None and message.text and message.text.startswith("/"):
            await self._reply(message.chat_id, _said(update, "tg_private_only"))
        return True

    async def trouble(self, update: Update, error: Exception) -> None:
        """After `update` failed: log the kind of error, and say sorry in a private chat."""
        # Only the kind of error: its text may hold a phone number or the bot token.
        log.error(
            "telegram update %s failed: %s",
            update.update_id,
            type(error).__name__,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            await self._reply(chat.id, _said(update, "sorry"))

    # --- updates -------------------------------------------------------------------

    async def _contact(self, update: Update, message: Message, contact: Contact) -> bool:
        user = update.effective_user
        chat_id = message.chat_id
        # Anyone can send a contact card they have; only the sender's own card proves the
        # number is theirs (Telegram verified it when they signed up).
        if user is None or contact.user_id is None or contact.user_id != user.id:
            if not await self._first_time(update):
                return False
            log.info("telegram chat %s shared a contact that is not their own", chat_id)
            await self._reply(chat_id, _said(update, "tg_not_your_contact"), _share(update))
            return True
        raw = contact.phone_number.strip()
        try:
            phone = normalize_phone(raw if raw.startswith("+") else f"+{raw}")
        except InvalidPhone:
            if not await self._first_time(update):
                return False
            await self._reply(chat_id, _said(update, "tg_no_phone_in_contact"), _share(update))
            return True
        provider = await service_accounts.provider_name(phone=phone)
        request = await _waiting_request(chat_id)
        telegram_user_id = user.id

        async def link() -> inbox.GoOn:
            await links.link(chat_id=chat_id, telegram_user_id=telegram_user_id, phone=phone)
            log.info("telegram chat %s linked to %s", chat_id, mask_phone(phone))
            if provider is None:
                # The card carries the name Telegram shows: a new customer is not asked again.
                name = clean_name(" ".join(filter(None, (contact.first_name, contact.last_name))))
                if name is not None:
                    await users.register(phone=phone, name=name)
            confirmation = (
                _said(update, "tg_linked_provider", name=provider)
                if provider is not None
                else _said(update, "tg_linked", tail=phone[-4:])
            )
            await self._reply(chat_id, confirmation, ReplyKeyboardRemove())
            if request is not None:
                await _forget_request(chat_id)
            return inbox.GoOn.SENDER_CHANGED

        # What they asked before sharing is carried out now; else where things stand.
        text = request or ("QUEUE" if provider is not None else "HELP")
        return await self._converse(update, chat_id, phone, text, first=link)

    async def _text(self, update: Update, message: Message, text: str) -> bool:
        chat_id = message.chat_id
        phone = await links.phone_of(chat_id)
        if phone is None:
            if not await self._first_time(update):
                return False
            if not _is_start(text):
                await _remember_request(chat_id, engine_text(text))
            await self._reply(chat_id, _said(update, "tg_ask_for_phone"), _share(update))
            return True

        async def writing_again() -> inbox.GoOn:
            await _reachable_again(chat_id)
            return inbox.GoOn.SAME_SENDER

        # /start is Telegram's "hello", not the SMS opt-in word START.
        said = "HELP" if _is_start(text) else engine_text(text)
        return await self._converse(update, chat_id, phone, said, first=writing_again)

    async def _button(self, update: Update, query: CallbackQuery) -> bool:
        chat = update.effective_chat
        data = query.data
        if chat is None or chat.type != ChatType.PRIVATE or not data:
            return await self._answered_once(update, query)
        phone = await links.phone_of(chat.id)
        if phone is None:
            fresh = await self._answered_once(update, query)
            if fresh:
                await self._reply(chat.id, _said(update, "tg_ask_for_phone"), _share(update))
            return fresh
        if data.startswith(keyboards.UI_PREFIX):
            markup = await keyboards.picker(data)
            if markup is not None:
                fresh = await self._answered_once(update, query)
                if fresh:
                    await _edit_markup(query, markup)
                return fresh
            # Nothing to pick from: the engine says so in its own words.
            data = "JOIN"
        chat_id = chat.id

        async def pressed() -> inbox.GoOn:
            # Answered first, or the user's client shows a spinner while the engine works.
            await _answer(query)
            # The pressed keyboard has done its job; the reply brings fresh buttons.
            await _edit_markup(query, None)
            await _reachable_again(chat_id)
            return inbox.GoOn.SAME_SENDER

        return await self._converse(update, chat_id, phone, data, first=pressed)

    async def _member(self, change: ChatMemberUpdated) -> None:
        if change.chat.type != ChatType.PRIVATE:
            return
        blocked = change.new_chat_member.status == ChatMemberStatus.BANNED
        await links.set_reachable(change.chat.id, not blocked)

    # --- helpers -------------------------------------------------------------------

    def _key(self, update: Update) -> str:
        return inbound_key(self._bot_id, update.update_id)

    async def _first_time(self, update: Update) -> bool:
        """Record an update the engine does not answer; False if it was seen before."""
        first = await deliveries.record_once(
            channel=Channel.TELEGRAM, external_id=self._key(update), now=utcnow()
        )
        if not first:
            log.info("telegram update %s seen before: ignored", update.update_id)
        return first

    async def _answered_once(self, update: Update, query: CallbackQuery) -> bool:
        """Record a button press the engine does not answer and answer its query (always,
        or the user's client shows a spinner); False if it was seen before."""
        if not await self._first_time(update):
            return False
        await _answer(query)
        return True

    async def _converse(
        self, update: Update, chat_id: int, phone: str, text: str, *, first: inbox.FirstStep
    ) -> bool:
        path = self.inbox
        assert path is not None, "TelegramChannel.start gives the inbound path"
        message = inbox.Message(
            channel=Channel.TELEGRAM,
            phone=phone,
            text=text,
            delivery_id=self._key(update),
            now=utcnow(),
            language_hint=_language_code(update),
        )
        outcome = await path.receive(message, policy=POLICY, first=first)
        match outcome:
            case inbox.Duplicate():
                # The first delivery sent its reply.
                return False
            case inbox.SlowedDown(reply=reply):
                await self._reply(chat_id, reply)
            case inbox.Answered(answer=answer):
                await self._answer_with(path, message, chat_id, answer)
        return True

    async def _answer_with(
        self, path: inbox.Inbox, message: inbox.Message, chat_id: int, answer: Reply
    ) -> None:
        try:
            await self._send(chat_id, answer.text, keyboards.for_reply(answer))
        except RetryLater as exc:
            # Flood control: the engine has acted, so its answer must not be lost. The
            # outbox delivers it as soon as Telegram allows, with the notice buttons.
            log.warning("telegram reply to chat %s deferred to the outbox: %s", chat_id, exc)
            await path.queue_reply(message, answer.text)
        except DeliveryError as exc:
            log.warning("telegram reply to chat %s not sent: %s", chat_id, exc)

    async def _reply(self, chat_id: int, text: str, markup: Markup | None = None) -> None:
        try:
            await self._send(chat_id, text, markup)
        except DeliveryError as exc:
            log.warning("telegram reply to chat %s not sent: %s", chat_id, exc)

    async def _send(self, chat_id: int, text: str, markup: Markup | None) -> None:
        # A reply answers what the person just did: only the overall limit applies.
        await send_text(
            self._bot,
            self._pacer,
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            max_wait=REPLY_MAX_WAIT,
            per_chat=False,
        )


async def _reachable_again(chat_id: int) -> None:
    # Writing to us again means they have not blocked the bot (any more).
    await links.set_reachable(chat_id, True)


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


async def _waiting_request(chat_id: int) -> str | None:
    """What the chat asked before it shared its phone, if it is still waiting."""
    dialogue = await conversations.load(
        channel=Channel.TELEGRAM, phone=_request_key(chat_id), now=utcnow()
    )
    text = dialogue.data.get("text") if dialogue is not None else None
    return text if isinstance(text, str) and text.strip() else None


async def _forget_request(chat_id: int) -> None:
    await conversations.clear(channel=Channel.TELEGRAM, phone=_request_key(chat_id))


def _said(update: Update, key: str, **values: object) -> str:
    """The channel's own words (linking a chat, trouble) in the language the person's
    Telegram is set to, before the conversation knows theirs (no catalog: English)."""
    return say(key, language=_telegram_language(update), **values)


def _share(update: Update) -> ReplyKeyboardMarkup:
    return keyboards.share_phone(_telegram_language(update))


def _telegram_language(update: Update) -> str | None:
    return languages.from_tag(_language_code(update), known=locales.languages())


def _language_code(update: Update) -> str | None:
    """The language the user's Telegram app is set to (an IETF tag, "es" or "es-MX")."""
    user = update.effective_user
    return None if user is None else user.language_code
