"""Every word the engine says to a provider, in one place to review and translate.

Each reply fits one SMS segment except the queue, which is summarised into the budget
its channel gives (bot.provider.QUEUE_BUDGET); names are shortened by bot.replies.person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.replies import ECHO_MAX, fit, person, spot_phrase
from core.rules.gsm import fits_one_segment
from core.rules.message_stats import NO_MESSAGES, MessageFigures
from core.rules.notice_texts import place
from core.rules.phones import mask_phone
from core.rules.queue_spot import Spot
from core.rules.stats import Figures
from core.rules.undo import Action, Outcome
from core.rules.vocabulary import Command


def help_provider() -> str:
    return (
        "QUEUE [day] shows your line, NEXT calls the next person, DONE or NOSHOW [n] "
        "closes a visit, ADD +phone [name] adds a walk-in, STATS. HELP MORE: the rest."
    )


def help_provider_more() -> str:
    return (
        "UNDO reverts your last NEXT, DONE or NOSHOW. DELAY n [note] tells those waiting "
        "you run n min late (DELAY 0 ends it). CLOSE / OPEN stop, resume today's joins."
    )


def greeting_provider() -> str:
    return "Hi! Text QUEUE to see your line, NEXT to call the next person, DONE when finished."


def _who(name: str, phone: str) -> str:
    return f"{person(name)} ({mask_phone(phone)})"


def called(*, name: str, phone: str, waiting: int) -> str:
    return (
        f"Called {_who(name, phone)}. {waiting} still waiting. "
        "Text DONE when finished, NOSHOW if they don't come."
    )


def nobody_waiting() -> str:
    return "Nobody is waiting today. Text QUEUE [day] to see a line."


def closed(*, command: Command, name: str, phone: str, waiting: int) -> str:
    verb = "Done" if command is Command.DONE else "No-show"
    return f"{verb}: {_who(name, phone)}. {waiting} waiting. Text NEXT to call the next person."


def nobody_called() -> str:
    return "Nobody has been called. Text NEXT to call the next person, or DONE 1 / NOSHOW 1 for #1."


def _number(n: int) -> str:
    """A number the provider typed, quoted back; a long one is cut to fit the reply."""
    digits = str(n)
    return digits if len(digits) <= ECHO_MAX else digits[:ECHO_MAX] + "..."


def no_such_position(position: int) -> str:
    return f"There is no #{_number(position)} in today's line. Text QUEUE to see it."


def no_such_appointment(appointment_id: int) -> str:
    return f"No active appointment #{_number(appointment_id)} in your line. Text QUEUE to see it."


def too_early_to_close(*, appointment_id: int, day: str) -> str:
    return (
        f"#{appointment_id} is booked for {day}: close it on that day or later. "
        "Text QUEUE to see today's line."
    )


def add_usage() -> str:
    return "To add a walk-in, text ADD and their number, e.g. ADD +14155550101 Ann Bell."


def add_invalid_number(typed: str) -> str:
    return (
        f"{typed[:24]} is not a valid phone number, so nobody was added. Check it and text "
        "ADD again, e.g. ADD +14155550101 Ann Bell."
    )


def _ticket(spot: Spot) -> str:
    """The walk-in's ticket number, for a provider whose board shows tickets."""
    return "" if spot.ticket is None else f" Ticket: {spot.ticket}."


def added(*, name: str, phone: str, day: str, spot: Spot) -> str:
    return f"Added {_who(name, phone)} for {day}: {spot_phrase(spot)}.{_ticket(spot)}"


def added_past_limits(*, name: str, phone: str, day: str, spot: Spot) -> str:
    return (
        f"Added {_who(name, phone)} for {day} past your limits: {spot_phrase(spot)}."
        f"{_ticket(spot)}"
    )


def closed_for_today(*, waiting: int) -> str:
    return (
        f"Closed: no new joins today. {waiting} still waiting; NEXT calls them. "
        "Text OPEN to take joins again."
    )


def opened_for_today(*, was_closed: bool) -> str:
    if was_closed:
        return "Open again: customers can join today's line."
    return "You are open: customers can join today's line. Text CLOSE to stop joins."


def add_already(*, name: str, phone: str, day: str) -> str:
    return f"{_who(name, phone)} already has a spot {day}. Text QUEUE to see your line."


@dataclass(frozen=True, slots=True)
class QueueEntry:
    name: str
    phone: str
    wait_minutes: int
    # A called customer who confirmed they are coming (HERE): marked in the queue.
    confirmed: bool = False


# After a called customer's name in QUEUE when they confirmed (HERE).
COMING_MARK = " coming"


def _serving(e: QueueEntry) -> str:
    return _who(e.name, e.phone) + (COMING_MARK if e.confirmed else "")


def queue(
    *,
    place_name: str,
    day: str,
    serving: Sequence[QueueEntry],
    waiting: Sequence[QueueEntry],
    budget: int,
    waiting_total: int | None = None,
) -> str:
    """The line for a provider, summarised to fit `budget` septets.

    `waiting` may be the front of a longer line of `waiting_total` people.
    """
    total = len(waiting) if waiting_total is None else waiting_total
    head = f"{place(place_name)} {day}: {total} waiting."
    if serving:
        head += " Now: " + ", ".join(_serving(e) for e in serving[:2])
        head += f" +{len(serving) - 2}." if len(serving) > 2 else "."
    if not waiting:
        return head
    lines = [
        f"{i} {person(e.name)} {mask_phone(e.phone)[-4:]} {e.wait_minutes}m"
        for i, e in enumerate(waiting, start=1)
    ]
    return fit(lines, head=head + " ", tail="", budget=budget, total=total)


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{round(value)} min"


def stats(*, week: bool, figures: Figures, messages: MessageFigures = NO_MESSAGES) -> str:
    """STATS: the period's counts and medians, and the messages sent about the line
    (dropped to SMS alone, then left out, where the numbers would not fit one segment)."""
    label = "Last 7 days" if week else "Today"
    rate = "-" if figures.no_show_rate is None else f"{round(figures.no_show_rate * 100)}%"
    text = (
        f"{label}: {figures.served} served, {figures.no_shows} no-shows ({rate}), "
        f"{figures.cancellations} canceled. Median wait {_minutes(figures.median_wait)}, "
        f"service {_minutes(figures.median_service)}.{_off_by(figures.estimate_error)}"
    )
    for part in _sent(messages):
        if fits_one_segment(text + part):
            return text + part
    return text


_CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "console": "console"}


def _sent(messages: MessageFigures) -> list[str]:
    """What STATS may say about the messages sent, longest first (none: nothing)."""
    if not messages.total:
        return []
    sms = messages.sent.get("sms", 0)
    cost = "" if messages.estimated_cost is None else f", cost {messages.estimated_cost:.2f}"
    on_sms = f"{sms} SMS ({messages.sms_segments} seg{cost})"
    others = [
        f"{count} {_CHANNEL_NAMES.get(channel, channel)}"
        for channel, count in messages.sent.items()
        if channel != "sms"
    ]
    parts = [f" Sent {', '.join([on_sms, *others] if sms else others)}."]
    if sms and others:
        parts.append(f" Sent {on_sms}.")
    return parts


def _off_by(error: float | None) -> str:
    """How far quoted waits were from the waits that followed, once any was quoted."""
    return "" if error is None else f" Quotes off by {_minutes(error)}."


def delay_usage() -> str:
    return "Text DELAY and the minutes you run behind (0 to 720), e.g. DELAY 20 flat tyre. DELAY 0 ends it."


def delay_set(*, minutes: int, told: int) -> str:
    if not minutes:
        return "Delay cleared: waits are quoted as usual again. No one was texted."
    people = "1 person" if told == 1 else f"{told} people"
    return (
        f"Told {people} waiting today you run about {minutes} min behind; their waits "
        "include it until DELAY 0 or the day ends."
    )


def stats_usage() -> str:
    return "Text STATS for today's figures, or STATS WEEK for the last 7 days."


_UNDONE_WORDS = {
    Action.NEXT: "NEXT",
    Action.DONE: "DONE",
    Action.NOSHOW: "NOSHOW",
    Action.AUTO_NOSHOW: "the no-show",
}
_UNDO_WHAT = "UNDO reverts your last NEXT, DONE or NOSHOW within 10 min, once."


def undo(
    *,
    outcome: Outcome,
    action: Action | None,
    name: str | None,
    phone: str | None,
    position: int | None,
) -> str:
    """UNDO's answer: what was put back, or why nothing was."""
    if outcome is Outcome.NOTHING or action is None:
        return f"Nothing to undo. {_UNDO_WHAT}"
    if outcome is Outcome.ALREADY_UNDONE:
        return f"Your last action was already undone. {_UNDO_WHAT}"
    if outcome is Outcome.EXPIRED:
        return f"Too late to undo {_UNDONE_WORDS[action]}: it was over 10 minutes ago."
    who = _who(name or "?", phone or "")
    if outcome is Outcome.CHANGED_SINCE:
        return (
            f"Can't undo {_UNDONE_WORDS[action]}: {who} left or their record changed since. "
            "Nothing was changed."
        )
    if outcome is Outcome.BOOKED_ELSEWHERE:
        return (
            f"Can't undo {_UNDONE_WORDS[action]}: {who} has another spot that day. "
            "Nothing was changed."
        )
    where = f"back in line at #{position}" if position is not None else "called again, visit open"
    return f"Undone {_UNDONE_WORDS[action]}: {who} is {where}. Text QUEUE to see your line."
