"""Every word the engine says to customers, and the phrasing both sides share: the
typed functions the engine calls, over the catalogs of core.locales (the words of
each language; a provider's replies: bot.provider_replies).

Each core reply fits one SMS segment (160 GSM-7 characters) in every language: names
taken from the database are made GSM-7-safe and shortened here, so a long or accented
name cannot push a message into a second segment or into UCS-2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.locales import names, say
from core.rules.gsm import SINGLE_GSM, fits_one_segment, septets
from core.rules.names import short_name
from core.rules.notice_texts import clip
from core.rules.notice_texts import coming as coming
from core.rules.notice_texts import place as place
from core.rules.notice_texts import up_soon as up_soon
from core.rules.notice_texts import you_are_next as you_are_next
from core.rules.notice_texts import your_turn as your_turn
from core.rules.queue_spot import Spot
from core.rules.vocabulary import Command

PERSON_MAX = 16
ECHO_MAX = 16


def _echo(text: str) -> str:
    """What the customer typed, quoted back, short and safe."""
    return '"' + clip(text, ECHO_MAX).replace('"', "'") + '"'


def person(name: str) -> str:
    return clip(short_name(name), PERSON_MAX)


def day_label(day: date, *, today: date) -> str:
    """today, tomorrow, else "Fri 24 Dec", with the year when it is not this year's."""
    if day == today:
        return say("today")
    if day == today + timedelta(days=1):
        return say("tomorrow")
    weekday, month = names("weekdays")[day.weekday()], names("months")[day.month - 1]
    label = say("day_label", weekday=weekday, day=day.day, month=month)
    return label if day.year == today.year else f"{label} {day.year}"


def _hours_minutes(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def wait_phrase(minutes: int, within: tuple[int, int] | None = None) -> str:
    """A quoted wait: one number, or the range `within` (core.rules.estimate) as
    "15-25 min wait" (a hyphen: GSM-7 has no en dash)."""
    if within is not None:
        low, high = within
        if high < 60:
            return say("wait_range_minutes", low=low, high=high)
        return say("wait_range", low=_hours_minutes(low), high=_hours_minutes(high))
    if minutes <= 0:
        return say("no_wait")
    hours, mins = divmod(minutes, 60)
    if not hours:
        return say("wait_about_minutes", minutes=mins)
    return say("wait_about", length=f"{hours}h {mins:02d}m")


def spot_phrase(spot: Spot) -> str:
    wait = wait_phrase(spot.wait_minutes, spot.wait_range)
    return say("spot", position=spot.position, ahead=spot.ahead, wait=wait)


def fit(
    parts: Sequence[str], *, head: str, tail: str, budget: int, total: int | None = None
) -> str:
    """`head` + as many `parts` as fit + "+N more" + `tail`, within `budget` septets.

    `total` counts what `parts` stands for when only the first few were loaded.
    """
    count = len(parts) if total is None else max(total, len(parts))

    def render(shown: Sequence[str]) -> str:
        left = count - len(shown)
        items = [*shown, say("more", count=left)] if left else list(shown)
        return head + "; ".join(items) + "." + tail

    shown: list[str] = []
    for part in parts:
        if septets(render([*shown, part])) > budget:
            break
        shown.append(part)
    return render(shown)


# Customers -----------------------------------------------------------------------


def ask_name() -> str:
    return say("ask_name")


def ask_name_again() -> str:
    return say("ask_name_again")


def welcome(name: str) -> str:
    return say("welcome", name=clip(name.split()[0], PERSON_MAX))


def joined(*, place_name: str, day: str, spot: Spot, no_set_times: bool = False) -> str:
    """Booked; `no_set_times` when the customer asked for a time, which a line has not.
    A spot with a ticket (a provider whose board shows tickets) says its number; when
    that and the no-set-times note would not fit one segment, the note gives way."""
    where = say("joined", place=place(place_name), day=day, spot=spot_phrase(spot)) + " "
    ticket = "" if spot.ticket is None else say("joined_ticket", ticket=spot.ticket) + " "
    if no_set_times:
        text = where + ticket + say("joined_no_set_times")
        if not ticket or fits_one_segment(text):
            return text
    return where + ticket + say("joined_tail")


def already_booked(*, place_name: str, day: str, spot: Spot | None) -> str:
    where = f"{place(place_name)} {day}"
    if spot is None:
        return say("already_booked_called", where=where)
    return say("already_booked", where=where, spot=spot_phrase(spot))


def day_passed() -> str:
    return say("day_passed")


def too_far_ahead(*, days: int, last: str) -> str:
    return say("too_far_ahead", days=days, last=last)


def no_room(*, place_name: str, closed: bool, next_day: str | None) -> str:
    """A join refused: the day is full, or the provider closed today's joins by hand."""
    reason = say("no_room_closed" if closed else "no_room_full", place=place(place_name))
    if next_day:
        return reason + " " + say("no_room_next", day=next_day) + " " + say("yes_joins")
    return reason + " " + say("no_room_anywhere")


def _join_then(next_open: str | None, join_words: str | None) -> str:
    if next_open is None or join_words is None:
        return say("no_open_day")
    return say("join_then", day=next_open, words=join_words)


def closed_day(*, place_name: str, day: str, next_open: str | None, join_words: str | None) -> str:
    """A join for a day the provider's hours or closed dates close."""
    closed = say("closed_day", place=place(place_name), day=day)
    return f"{closed} {_join_then(next_open, join_words)}"


def after_closing(
    *, place_name: str, closes: str, next_open: str | None, join_words: str | None
) -> str:
    """A same-day join whose turn would come after closing."""
    closing = say("after_closing", place=place(place_name), closes=closes)
    return f"{closing} {_join_then(next_open, join_words)}"


def bad_day() -> str:
    return say("bad_day")


def no_places() -> str:
    return say("no_places")


@dataclass(frozen=True, slots=True)
class PlaceOption:
    name: str
    code: str | None


def _place_option(option: PlaceOption) -> str:
    code = f" ({clip(option.code, 8)})" if option.code else ""
    return place(option.name) + code


def choose_place(options: Sequence[PlaceOption], *, unknown: str | None = None) -> str:
    """A numbered choice when it fits one segment, else how to name the place."""
    head = say("unknown_word", word=_echo(unknown)) + " " if unknown else ""
    listed = ", ".join(f"{i} {_place_option(o)}" for i, o in enumerate(options, start=1))
    numbered = head + say("which_place_numbered", options=listed)
    if options and septets(numbered) <= SINGLE_GSM:
        return numbered
    return head + say("which_place")


def place_not_found(unknown: str) -> str:
    return say("place_not_found", word=_echo(unknown))


@dataclass(frozen=True, slots=True)
class Standing:
    """One of a customer's active appointments, for STATUS and LEAVE."""

    place_name: str
    day: str
    spot: Spot | None  # None: called, it is their turn


def standing_line(s: Standing) -> str:
    where = f"{place(s.place_name)} {s.day}"
    if s.spot is None:
        return say("standing_called", where=where)
    return f"{where}: {spot_phrase(s.spot)}"


def status(standings: Sequence[Standing]) -> str:
    if len(standings) == 1:
        return say("status_one", standing=standing_line(standings[0]))
    return fit(
        [standing_line(s) for s in standings],
        head=say("your_spots") + " ",
        tail=" " + say("status_many_tail"),
        budget=SINGLE_GSM,
    )


def not_in_line() -> str:
    return say("not_in_line")


def left(*, place_name: str, day: str) -> str:
    return say("left", place=place(place_name), day=day)


def no_longer_active() -> str:
    return say("no_longer_active")


def choose_standing(standings: Sequence[Standing]) -> str:
    options = [f"{i} {place(s.place_name)} {s.day}" for i, s in enumerate(standings, start=1)]
    return fit(options, head=say("which_one") + " ", tail="", budget=SINGLE_GSM)


def bad_choice(count: int) -> str:
    return say("bad_choice", count=count)


def help_customer(*, cancel_opts_out: bool) -> str:
    """`cancel_opts_out`: the channel's carrier reads CANCEL as an opt-out (SMS)."""
    return say("help_customer_sms" if cancel_opts_out else "help_customer")


def greeting_customer() -> str:
    return say("greeting_customer")


def how_to_stop() -> str:
    return say("how_to_stop")


def stopped() -> str:
    return say("stopped")


def started() -> str:
    return say("started")


def language_set() -> str:
    """ESPAÑOL, ENGLISH: the answer, in the language just chosen."""
    return say("language_set")


# The commands a "didn't get that" can suggest (each has a `hint_<command>` reply).
_HINTED = frozenset(
    {
        Command.JOIN,
        Command.STATUS,
        Command.LEAVE,
        Command.QUEUE,
        Command.NEXT,
        Command.DONE,
        Command.NOSHOW,
        Command.ADD,
    }
)


def not_understood(hints: Sequence[Command]) -> str:
    words = [say(f"hint_{c.value}") for c in hints if c in _HINTED][:3]
    if not words:
        return say("not_understood")
    if len(words) == 1:
        return say("not_understood_try", words=words[0])
    listed = say("or_list", first=", ".join(words[:-1]), last=words[-1])
    return say("not_understood_try", words=listed)


def sorry() -> str:
    return say("sorry")


# Proactive messages (outbox) ---------------------------------------------------------


# your_turn, you_are_next and up_soon, the proactive notices, and coming (to the
# provider) live in core.rules.notice_texts: the core writes them in the transaction of
# the change, in the recipient's language.
