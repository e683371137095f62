"""Every word the engine says to customers, and the phrasing both sides share, in one
place to review and translate (a provider's replies: bot.provider_replies).

Each core reply fits one SMS segment (160 GSM-7 characters): names taken from the
database are made GSM-7-safe and shortened here, so a long or accented name cannot
push a message into a second segment or into UCS-2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    label = f"{day:%a} {day.day} {day:%b}"
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
            return f"{low}-{high} min wait"
        return f"{_hours_minutes(low)}-{_hours_minutes(high)} wait"
    if minutes <= 0:
        return "no wait"
    hours, mins = divmod(minutes, 60)
    if not hours:
        return f"about {mins} min wait"
    return f"about {hours}h {mins:02d}m wait"


def spot_phrase(spot: Spot) -> str:
    wait = wait_phrase(spot.wait_minutes, spot.wait_range)
    return f"#{spot.position}, {spot.ahead} ahead, {wait}"


def fit(
    parts: Sequence[str], *, head: str, tail: str, budget: int, total: int | None = None
) -> str:
    """`head` + as many `parts` as fit + "+N more" + `tail`, within `budget` septets.

    `total` counts what `parts` stands for when only the first few were loaded.
    """
    count = len(parts) if total is None else max(total, len(parts))

    def render(shown: Sequence[str]) -> str:
        left = count - len(shown)
        items = [*shown, f"+{left} more"] if left else list(shown)
        return head + "; ".join(items) + "." + tail

    shown: list[str] = []
    for part in parts:
        if septets(render([*shown, part])) > budget:
            break
        shown.append(part)
    return render(shown)


# Customers -----------------------------------------------------------------------


def ask_name() -> str:
    return "Welcome to Waitlist! What's your name? Reply with it and I'll carry on."


def ask_name_again() -> str:
    return (
        "Sorry, I didn't catch a name. Please reply with your first and last name, e.g. Ann Bell."
    )


def welcome(name: str) -> str:
    return (
        f"Thanks, {clip(name.split()[0], PERSON_MAX)}! Text JOIN to get in line, "
        "STATUS for your place, LEAVE to leave, HELP for more."
    )


def joined(*, place_name: str, day: str, spot: Spot, no_set_times: bool = False) -> str:
    """Booked; `no_set_times` when the customer asked for a time, which a line has not.
    A spot with a ticket (a provider whose board shows tickets) says its number; when
    that and the no-set-times note would not fit one segment, the note gives way."""
    where = f"You're in line at {place(place_name)} {day}: {spot_phrase(spot)}. "
    ticket = "" if spot.ticket is None else f"Your ticket: {spot.ticket}. "
    if no_set_times:
        text = where + ticket + "No set times: first come, first served. Text STATUS for updates."
        if not ticket or fits_one_segment(text):
            return text
    return where + ticket + "Text STATUS for updates, LEAVE to leave."


def already_booked(*, place_name: str, day: str, spot: Spot | None) -> str:
    where = f"{place(place_name)} {day}"
    if spot is None:
        return f"You already have a spot at {where}. Text STATUS to see it, LEAVE to give it up."
    return (
        f"You already have a spot at {where}: {spot_phrase(spot)}. Text LEAVE first to change it."
    )


def day_passed() -> str:
    return "That day has passed. Text JOIN with a day like TODAY, TOMORROW, FRI or 24/12."


def too_far_ahead(*, days: int, last: str) -> str:
    return f"Bookings open {days} days ahead, up to {last}. Please pick a nearer day."


def no_room(*, place_name: str, closed: bool, next_day: str | None) -> str:
    """A join refused: the day is full, or the provider closed today's joins by hand."""
    reason = "is closed for joins today" if closed else "is full that day"
    then = f" Next day with room: {next_day}. {_yes_joins()}" if next_day else " No day has room yet."
    return f"Sorry, {place(place_name)} {reason}.{then}"


def _yes_joins() -> str:
    return "Reply YES to join then."


def _join_then(next_open: str | None, join_words: str | None) -> str:
    if next_open is None or join_words is None:
        return "No open day to book yet."
    return f"Next open {next_open}: reply YES to join then, or text JOIN {join_words} later."


def closed_day(*, place_name: str, day: str, next_open: str | None, join_words: str | None) -> str:
    """A join for a day the provider's hours or closed dates close."""
    return f"{place(place_name)} is closed {day}. {_join_then(next_open, join_words)}"


def after_closing(
    *, place_name: str, closes: str, next_open: str | None, join_words: str | None
) -> str:
    """A same-day join whose turn would come after closing."""
    return (
        f"{place(place_name)} closes at {closes} today, before your turn would come. "
        f"{_join_then(next_open, join_words)}"
    )


def bad_day() -> str:
    return "I couldn't read that day. Try TODAY, TOMORROW, a weekday like FRI, or 24/12."


def no_places() -> str:
    return "No places are taking bookings by text yet. Please try again later."


@dataclass(frozen=True, slots=True)
class PlaceOption:
    name: str
    code: str | None


def _place_option(option: PlaceOption) -> str:
    code = f" ({clip(option.code, 8)})" if option.code else ""
    return place(option.name) + code


def choose_place(options: Sequence[PlaceOption], *, unknown: str | None = None) -> str:
    """A numbered choice when it fits one segment, else how to name the place."""
    head = f"I don't know {_echo(unknown)}. " if unknown else ""
    listed = ", ".join(f"{i} {_place_option(o)}" for i, o in enumerate(options, start=1))
    numbered = f"{head}Which place? Reply {listed}."
    if options and septets(numbered) <= SINGLE_GSM:
        return numbered
    return f"{head}Which place? Text JOIN and the place's code or name, e.g. JOIN SPA."


def place_not_found(unknown: str) -> str:
    return (
        f"I don't know a place called {_echo(unknown)}. "
        "Text JOIN and the place's code or name, e.g. JOIN SPA."
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """One of a customer's active appointments, for STATUS and LEAVE."""

    place_name: str
    day: str
    spot: Spot | None  # None: called, it is their turn


def standing_line(s: Standing) -> str:
    where = f"{place(s.place_name)} {s.day}"
    if s.spot is None:
        return f"{where}: it's your turn now"
    return f"{where}: {spot_phrase(s.spot)}"


def status(standings: Sequence[Standing]) -> str:
    if len(standings) == 1:
        return f"{standing_line(standings[0])}. Text LEAVE to leave the line."
    return fit(
        [standing_line(s) for s in standings],
        head="Your spots: ",
        tail=" Text LEAVE to leave one.",
        budget=SINGLE_GSM,
    )


def not_in_line() -> str:
    return "You're not in any line. Text JOIN to get in line, or HELP for what you can text."


def left(*, place_name: str, day: str) -> str:
    return f"You've left the line at {place(place_name)} {day}. Text JOIN to get back in line."


def no_longer_active() -> str:
    return "That spot is no longer active. Text STATUS to see where you are."


def choose_standing(standings: Sequence[Standing]) -> str:
    options = [f"{i} {place(s.place_name)} {s.day}" for i, s in enumerate(standings, start=1)]
    return fit(options, head="Which one? Reply ", tail="", budget=SINGLE_GSM)


def bad_choice(count: int) -> str:
    return f"Please reply with a number from 1 to {count}, or text HELP."


def help_customer(*, cancel_opts_out: bool) -> str:
    """`cancel_opts_out`: the channel's carrier reads CANCEL as an opt-out (SMS)."""
    leave = "LEAVE to leave"
    if cancel_opts_out:
        leave += " (not CANCEL: it stops all texts)"
    return (
        f"Text JOIN to get in line (JOIN SPA FRI picks place and day), STATUS for your "
        f"place, {leave}, STOP to opt out."
    )


def greeting_customer() -> str:
    return "Hi! Text JOIN to get in line, STATUS to see your place, LEAVE to leave the line."


def how_to_stop() -> str:
    return "To stop all texts from us, text STOP on its own. To leave a line, text LEAVE."


def stopped() -> str:
    return "You're unsubscribed: we won't text you updates. Text START to get them again."


def started() -> str:
    return "You're subscribed again: we'll text you when your turn is near. Text HELP for commands."


_HINT_WORDS = {
    Command.JOIN: "JOIN",
    Command.STATUS: "STATUS",
    Command.LEAVE: "LEAVE",
    Command.QUEUE: "QUEUE",
    Command.NEXT: "NEXT",
    Command.DONE: "DONE",
    Command.NOSHOW: "NOSHOW",
    Command.ADD: "ADD",
}


def not_understood(hints: Sequence[Command]) -> str:
    words = [_HINT_WORDS[c] for c in hints if c in _HINT_WORDS][:3]
    if not words:
        return "Sorry, I didn't get that. Text HELP for what you can text."
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"Sorry, I didn't get that. Try {listed}. Text HELP for more."


def sorry() -> str:
    return "Sorry, something went wrong on our side. Please try again in a minute."


# Proactive messages (outbox) ---------------------------------------------------------


# your_turn, you_are_next and up_soon, the proactive notices, and coming (to the
# provider) live in
# core.rules.notice_texts: the core writes them in the transaction of the change.
