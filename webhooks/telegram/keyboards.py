"""Inline keyboards: buttons that type the engine's text commands for the user.

A command button's callback data is the very text a person could type ("STATUS",
"JOIN SPA 2026-12-24", "NEXT"), so buttons go through the same engine and the same
booking rules as SMS. Data starting with `ui:` only moves between pickers (choose a
place, then a day) and never changes anything.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot import replies
from bot.engine import menu_for
from bot.reply import Menu, Reply
from core.models import Channel, ServiceAccount
from core.rules.days import today_in, utcnow
from core.services import provider_lookup
from webhooks.telegram import texts

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


def share_phone() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.SHARE_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


PROVIDER_CONSOLE = InlineKeyboardMarkup(
    [
        [
            _button(texts.NEXT, "NEXT"),
            _button(texts.DONE, "DONE"),
            _button(texts.NO_SHOW, "NOSHOW"),
        ],
        [_button(texts.QUEUE, "QUEUE"), _button(texts.UNDO, "UNDO")],
        [_button(texts.CLOSE, "CLOSE"), _button(texts.OPEN, "OPEN")],
        # DELAY with the shop's most common figure; other figures are typed (DELAY 40).
        [_button(texts.DELAY, "DELAY 15"), _button(texts.ON_TIME, "DELAY 0")],
    ]
)
_CUSTOMER_IN_LINE = InlineKeyboardMarkup(
    [
        [_button(texts.STATUS, "STATUS"), _button(texts.LATE, "LATE")],
        [_button(texts.WHY, "WHY"), _button(texts.LEAVE, "LEAVE")],
        [_button(texts.JOIN, PICK_PLACE)],
    ]
)
# It is their turn: HERE first, on a row of its own so its label shows whole.
_CUSTOMER_CALLED = InlineKeyboardMarkup(
    [
        [_button(texts.HERE, "HERE")],
        [_button(texts.LATE, "LATE"), _button(texts.LEAVE, "LEAVE")],
        [_button(texts.STATUS, "STATUS"), _button(texts.WHY, "WHY")],
    ]
)
_CUSTOMER_IDLE = InlineKeyboardMarkup(
    [[_button(texts.JOIN, PICK_PLACE), _button(texts.HELP, "HELP")]]
)


_MENUS: dict[Menu, InlineKeyboardMarkup | None] = {
    Menu.PROVIDER_CONSOLE: PROVIDER_CONSOLE,
    Menu.CUSTOMER_IN_LINE: _CUSTOMER_IN_LINE,
    Menu.CUSTOMER_CALLED: _CUSTOMER_CALLED,
    Menu.CUSTOMER_IDLE: _CUSTOMER_IDLE,
    Menu.NONE: None,
}


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
    return _MENUS[reply.menu]


async def for_notice(phone: str) -> InlineKeyboardMarkup | None:
    """The buttons under a proactive message to `phone` ("it's your turn... text LEAVE
    if you can't make it"): what the recipient can do now, read once per notice."""
    return _MENUS[await menu_for(channel=Channel.TELEGRAM, phone=phone)]


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
