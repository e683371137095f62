"""The words of the proactive notices, which the core writes in the transaction of
the change that causes them (core.services.notices), in the recipient's language.

They follow bot.replies' rules (one GSM-7 segment whatever the place's name, in every
language) and are re-exported there; their words are the catalogs' (core.locales).
Each takes the recipient's `language` (None: the language being spoken).
"""

from __future__ import annotations

from functools import lru_cache

from core.locales import say
from core.rules.gsm import SINGLE_GSM, septets, to_gsm7
from core.rules.names import short_name
from core.rules.phones import mask_phone

PLACE_MAX = 20
# As bot.replies.PERSON_MAX: a customer named to the provider.
PERSON_MAX = 16


# Every reply names its place: the few names a server sees are made GSM-7-safe once.
@lru_cache(maxsize=4096)
def clip(text: str, limit: int) -> str:
    """`text` made GSM-7-safe, its spaces collapsed, cut to `limit` characters."""
    text = " ".join(to_gsm7(text).split())
    return text[:limit].rstrip() or "?"


def place(name: str) -> str:
    return clip(name, PLACE_MAX)


def your_turn(*, place_name: str, language: str | None = None) -> str:
    return say("your_turn", language=language, place=place(place_name))


def you_are_next(*, place_name: str, language: str | None = None) -> str:
    return say("you_are_next", language=language, place=place(place_name))


def up_soon(*, place_name: str, language: str | None = None) -> str:
    return say("up_soon", language=language, place=place(place_name))


def _who(name: str, phone: str) -> str:
    return f"{clip(short_name(name), PERSON_MAX)} ({mask_phone(phone)})"


def coming(*, name: str, phone: str, language: str | None = None) -> str:
    """To the provider: the customer it called confirmed they are coming (HERE)."""
    return say("coming", language=language, who=_who(name, phone))


def back_in_line(*, place_name: str, position: int, language: str | None = None) -> str:
    """To a customer whose call the provider undid: they wait again, at `position`."""
    return say("back_in_line", language=language, place=place(place_name), position=position)


def head_over(*, place_name: str, wait_minutes: int, language: str | None = None) -> str:
    """To a customer who said how far away they are (AWAY): their wait fell to it."""
    if wait_minutes > 0:
        when = say("head_over_in", language=language, minutes=wait_minutes)
    else:
        when = say("head_over_any_minute", language=language)
    return say("head_over", language=language, place=place(place_name), when=when)


def running_late(*, name: str, phone: str, minutes: int, language: str | None = None) -> str:
    """To the provider: the customer it called says they are running late (LATE)."""
    return say("running_late", language=language, who=_who(name, phone), minutes=minutes)


def running_behind(
    *, place_name: str, minutes: int, note: str | None, language: str | None = None
) -> str:
    """To each customer waiting today: the provider's DELAY, its note cut to what is left
    of one segment."""
    head = say("running_behind", language=language, place=place(place_name), minutes=minutes)
    tail = ". " + say("running_behind_tail", language=language)
    if not note:
        return head + tail
    whole = clip(note, SINGLE_GSM)
    room = SINGLE_GSM - septets(head + ": " + tail)
    cut = whole
    while cut and septets(cut) > room:
        # Cut to whole words where it can, marked so the customer knows it was longer.
        cut = clip(cut[: max(room - 3, 0)], SINGLE_GSM).rsplit(" ", 1)[0] + "..."
        if septets(cut) > room:
            cut = cut[: max(len(cut) - 4, 0)]
    if not cut.strip(".") or cut == "?":
        return head + tail
    return f"{head}: {cut}{tail[1:] if cut.endswith('...') else tail}"


def grace_reminder(*, place_name: str, language: str | None = None) -> str:
    """To a called customer at half their grace period, not yet confirmed."""
    return say("grace_reminder", language=language, place=place(place_name))


def grace_closed(*, place_name: str, minutes: str, language: str | None = None) -> str:
    """To a called customer whose grace period ran out: their spot is a no-show."""
    return say("grace_closed", language=language, place=place(place_name), minutes=minutes)


def turn_reopened(*, place_name: str, language: str | None = None) -> str:
    """To a customer whose automatic no-show the provider undid: their turn is back."""
    return say("turn_reopened", language=language, place=place(place_name))


def grace_no_show(*, name: str, phone: str, minutes: str, language: str | None = None) -> str:
    """To the provider: the grace period ran out and the spot was marked a no-show."""
    return say("grace_no_show", language=language, who=_who(name, phone), minutes=minutes)


def grace_no_show_called_next(
    *,
    name: str,
    phone: str,
    minutes: str,
    next_name: str,
    next_phone: str,
    language: str | None = None,
) -> str:
    """To the provider: as grace_no_show, and the next person was called (auto_call_next).
    That call is the provider's last action now, so UNDO reverts it, not the no-show."""
    return say(
        "grace_no_show_called_next",
        language=language,
        who=_who(name, phone),
        minutes=minutes,
        next=_who(next_name, next_phone),
    )


def grace_ask(*, name: str, phone: str, minutes: str, language: str | None = None) -> str:
    """To the provider: the grace period ran out, but our "your turn" did not reach the
    customer, so nothing was closed."""
    return say("grace_ask", language=language, who=_who(name, phone), minutes=minutes)
