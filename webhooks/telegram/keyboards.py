"""Inline keyboards: buttons that type the engine's text commands for the user.

A command button's callback data is the very text a person could type ("STATUS",
"JOIN SPA 2026-12-24", "NEXT"), so buttons go through the same engine and the same
booking rules as SMS. Data starting with `ui:` only moves between pickers (choose a
place, then a day) and never changes anything.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot import replies
from bot.engine import menu_for
from bot.reply import Menu, Reply
from core.locales import code_of, say
from core.models import Channel, ServiceAccount
from core.rules.days import today_in, utcnow
from core.services import provider_lookup

UI_PREFIX = "ui:"
PICK_PLACE = "ui:join"
PICK_DAY = "ui:day:"  # + the place's code, or its phone when it has none
MAX_CHOICES = 9
DAYS_AHEAD = 6
# Telegram's limit on callback data.
MAX_DATA_BYTES = 64


def _button(label: str, data: str) -> InlineKeyboardButton:
    assert len(data.encode()) <= MAX_DATA_BYTES, data
    return InlineKeyboardButton(label, callback_data=data)


def share_phone(language: str | None = None) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(say("tg_share_button", language=language), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


@functools.cache
def _menus(language: str) -> dict[Menu, InlineKeyboardMarkup | None]:
    """Each menu's buttons, labelled in `language` (built once per language)."""

    def b(key: str, data: str) -> InlineKeyboardButton:
        return _button(say(key, language=language), data)

    return {
        Menu.PROVIDER_CONSOLE: InlineKeyboardMarkup(
            [
                [b("tg_next", "NEXT"), b("tg_done", "DONE"), b("tg_no_show", "NOSHOW")],
                [b("tg_queue", "QUEUE"), b("tg_undo", "UNDO")],
                [b("tg_close", "CLOSE"), b("tg_open", "OPEN")],
                # DELAY with the shop's most common figure; other figures are typed (DELAY 40).
                [b("tg_delay", "DELAY 15"), b("tg_on_time", "DELAY 0")],
            ]
        ),
        Menu.CUSTOMER_IN_LINE: InlineKeyboardMarkup(
            [
                [b("tg_status", "STATUS"), b("tg_late", "LATE")],
                [b("tg_why", "WHY"), b("tg_leave", "LEAVE")],
                [b("tg_join", PICK_PLACE)],
            ]
        ),
        # It is their turn: HERE first, on a row of its own so its label shows whole.
        Menu.CUSTOMER_CALLED: InlineKeyboardMarkup(
            [
                [b("tg_here", "HERE")],
                [b("tg_late", "LATE"), b("tg_leave", "LEAVE")],
                [b("tg_status", "STATUS"), b("tg_why", "WHY")],
            ]
        ),
        Menu.CUSTOMER_IDLE: InlineKeyboardMarkup([[b("tg_join", PICK_PLACE), b("tg_help", "HELP")]]),
        Menu.NONE: None,
    }


def menu(which: Menu, *, language: str | None = None) -> InlineKeyboardMarkup | None:
    """The buttons of `which`, labelled in `language` (None or no catalog: English)."""
    return _menus(code_of(language))[which]


def for_reply(reply: Reply) -> InlineKeyboardMarkup | None:
    """The buttons to show under `reply`: what the person can sensibly do next.

    A provider's phone gets its console. Otherwise the reply's open question comes
    first: when it asks "which place?" or "which appointment?", its numbered choices
    become buttons that answer with the number; while it asks for a name there are
    none (Menu.NONE), since a press would be read as the answer.
    """
    if reply.menu is not Menu.PROVIDER_CONSOLE and reply.choices:
        return InlineKeyboardMarkup(
            [
                [_button(f"{choice.text}. {choice.label}", choice.text)]
                for choice in reply.choices[:MAX_CHOICES]
            ]
        )
    return menu(reply.menu, language=reply.language)


async def for_notice(phone: str) -> InlineKeyboardMarkup | None:
    """The buttons under a proactive message to `phone` ("it's your turn... text LEAVE
    if you can't make it"): what the recipient can do now, read once per notice."""
    which, language = await menu_for(channel=Channel.TELEGRAM, phone=phone)
    return menu(which, language=language)


def _place_key(account: ServiceAccount) -> str:
    return account.code or account.phone


async def picker(data: str) -> InlineKeyboardMarkup | None:
    """The picker a `ui:` button opens; None when there is nothing to pick from."""
    if data.startswith(PICK_DAY):
        key = data.removeprefix(PICK_DAY)
        found = await provider_lookup.find(words=[key], phone=key if key.startswith("+") else None)
        if len(found) == 1:
            return pick_day(found[0])
    accounts = await provider_lookup.default_accounts()
    if not accounts:
        return None
    if len(accounts) == 1:
        return pick_day(accounts[0])
    return InlineKeyboardMarkup(
        [
            [_button(replies.place(account.name), PICK_DAY + _place_key(account))]
            for account in accounts
        ]
    )


def pick_day(account: ServiceAccount) -> InlineKeyboardMarkup:
    """Today and the days after, in the place's own time zone.

    The data names the date itself, not "today": a picker pressed after midnight must
    not book a different day from the one its button showed.
    """
    key = _place_key(account)
    today = today_in(account.timezone, now=utcnow())
    buttons = []
    # No button for a day past the place's booking horizon: it would only be refused.
    for offset in range(min(DAYS_AHEAD, account.booking_horizon_days + 1)):
        day = today + timedelta(days=offset)
        label = replies.day_label(day, today=today)
        # The day goes first after a phone: the engine would read "+1202... 2026" as one number.
        words = f"{day.isoformat()} {key}" if key.startswith("+") else f"{key} {day.isoformat()}"
        buttons.append(_button(label[:1].upper() + label[1:], f"JOIN {words}"))
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
