"""The words of the proactive notices, which the core writes in the transaction of
the change that causes them (core.services.notices).

They follow bot.replies' rules (one GSM-7 segment whatever the place's name) and are
re-exported there, so every word the service says is still reviewed in one place.
"""

from __future__ import annotations

from functools import lru_cache

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


def your_turn(*, place_name: str) -> str:
    return (
        f"It's your turn at {place(place_name)}! Please come in now. "
        "Text HERE when on your way, LEAVE if you can't make it."
    )


def you_are_next(*, place_name: str) -> str:
    return (
        f"You're next at {place(place_name)}. Please be ready. "
        "Text STATUS for your place, LEAVE if you can't make it."
    )


def up_soon(*, place_name: str) -> str:
    return (
        f"You're up soon at {place(place_name)}: 1 person ahead of you. "
        "Text STATUS for your place, LEAVE if you can't make it."
    )


def _who(name: str, phone: str) -> str:
    return f"{clip(short_name(name), PERSON_MAX)} ({mask_phone(phone)})"


def coming(*, name: str, phone: str) -> str:
    """To the provider: the customer it called confirmed they are coming (HERE)."""
    who = _who(name, phone)
    return f"{who} says they're coming. Text DONE when finished, NOSHOW if they don't come."


def back_in_line(*, place_name: str, position: int) -> str:
    """To a customer whose call the provider undid: they wait again, at `position`."""
    return (
        f"Sorry, that call at {place(place_name)} was a mistake. You're back in line at "
        f"#{position}. Text STATUS for your place."
    )


def head_over(*, place_name: str, wait_minutes: int) -> str:
    """To a customer who said how far away they are (AWAY): their wait fell to it."""
    when = f"in about {wait_minutes} min" if wait_minutes > 0 else "any minute now"
    return (
        f"Time to head over to {place(place_name)}: your turn is {when}. "
        "Text LATE if you need more time, LEAVE if you can't make it."
    )


def running_late(*, name: str, phone: str, minutes: int) -> str:
    """To the provider: the customer it called says they are running late (LATE)."""
    who = f"{clip(short_name(name), PERSON_MAX)} ({mask_phone(phone)})"
    return f"{who} says they're running {minutes} min late. Text NOSHOW if they don't come."


def running_behind(*, place_name: str, minutes: int, note: str | None) -> str:
    """To each customer waiting today: the provider's DELAY, its note cut to what is left
    of one segment."""
    head = f"{place(place_name)} is running about {minutes} min behind"
    tail = ". Your wait is longer by that. Text STATUS for your place, LEAVE to leave."
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


def grace_reminder(*, place_name: str) -> str:
    """To a called customer at half their grace period, not yet confirmed."""
    return (
        f"Reminder: it's your turn at {place(place_name)}. Reply HERE if you're here or "
        "on your way, LATE 10 if you need more time."
    )


def grace_closed(*, place_name: str, minutes: str) -> str:
    """To a called customer whose grace period ran out: their spot is a no-show."""
    return (
        f"Your spot at {place(place_name)} was closed: you did not confirm within "
        f"{minutes} min. Text JOIN to get back in line."
    )


def turn_reopened(*, place_name: str) -> str:
    """To a customer whose automatic no-show the provider undid: their turn is back."""
    return (
        f"Sorry, {place(place_name)} has reopened your spot: it's still your turn. Please "
        "come in now. Text HERE when on your way, LEAVE if you can't make it."
    )


def grace_no_show(*, name: str, phone: str, minutes: str) -> str:
    """To the provider: the grace period ran out and the spot was marked a no-show."""
    return (
        f"{_who(name, phone)} did not confirm in {minutes} min: marked no-show. "
        "UNDO to put them back."
    )


def grace_no_show_called_next(
    *, name: str, phone: str, minutes: str, next_name: str, next_phone: str
) -> str:
    """To the provider: as grace_no_show, and the next person was called (auto_call_next).
    That call is the provider's last action now, so UNDO reverts it, not the no-show."""
    return (
        f"{_who(name, phone)} did not confirm in {minutes} min: no-show. Called "
        f"{_who(next_name, next_phone)} next. UNDO undoes that call, not the no-show."
    )


def grace_ask(*, name: str, phone: str, minutes: str) -> str:
    """To the provider: the grace period ran out, but our "your turn" did not reach the
    customer, so nothing was closed."""
    return (
        f"{_who(name, phone)} has not confirmed in {minutes} min and our text did not "
        "reach them. Reply DONE, NOSHOW or NEXT."
    )
