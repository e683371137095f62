"""Every word the engine says to a provider: the typed functions over the catalogs of
core.locales, in the provider's own language (its `language`, which the engine speaks
while it answers the provider).

Each reply fits one SMS segment except the queue, which is summarised into the budget
its channel gives (bot.provider.QUEUE_BUDGET); names are shortened by bot.replies.person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.replies import ECHO_MAX, fit, person, spot_phrase
from core.locales import say
from core.rules.gsm import fits_one_segment
from core.rules.message_stats import NO_MESSAGES, MessageFigures
from core.rules.notice_texts import place
from core.rules.phones import mask_phone
from core.rules.queue_spot import Spot
from core.rules.stats import Figures
from core.rules.undo import Action, Outcome
from core.rules.vocabulary import Command


def help_provider() -> str:
    return say("help_provider")


def help_provider_more() -> str:
    return say("help_provider_more")


def greeting_provider() -> str:
    return say("greeting_provider")


def _who(name: str, phone: str) -> str:
    return f"{person(name)} ({mask_phone(phone)})"


def called(*, name: str, phone: str, waiting: int) -> str:
    return say("called", who=_who(name, phone), waiting=waiting)


def nobody_waiting() -> str:
    return say("nobody_waiting")


def closed(*, command: Command, name: str, phone: str, waiting: int) -> str:
    key = "closed_done" if command is Command.DONE else "closed_noshow"
    return say(key, who=_who(name, phone), waiting=waiting)


def nobody_called() -> str:
    return say("nobody_called")


def _number(n: int) -> str:
    """A number the provider typed, quoted back; a long one is cut to fit the reply."""
    digits = str(n)
    return digits if len(digits) <= ECHO_MAX else digits[:ECHO_MAX] + "..."


def no_such_position(position: int) -> str:
    return say("no_such_position", position=_number(position))


def no_such_appointment(appointment_id: int) -> str:
    return say("no_such_appointment", id=_number(appointment_id))


def too_early_to_close(*, appointment_id: int, day: str) -> str:
    return say("too_early_to_close", id=appointment_id, day=day)


def add_usage() -> str:
    return say("add_usage")


def add_invalid_number(typed: str) -> str:
    return say("add_invalid_number", typed=typed[:24])


def _ticket(spot: Spot) -> str:
    """The walk-in's ticket number, for a provider whose board shows tickets."""
    return "" if spot.ticket is None else " " + say("added_ticket", ticket=spot.ticket)


def added(*, name: str, phone: str, day: str, spot: Spot) -> str:
    text = say("added", who=_who(name, phone), day=day, spot=spot_phrase(spot))
    return text + _ticket(spot)


def added_past_limits(*, name: str, phone: str, day: str, spot: Spot) -> str:
    text = say("added_past_limits", who=_who(name, phone), day=day, spot=spot_phrase(spot))
    return text + _ticket(spot)


def closed_for_today(*, waiting: int) -> str:
    return say("closed_for_today", waiting=waiting)


def opened_for_today(*, was_closed: bool) -> str:
    return say("opened_again" if was_closed else "opened_already")


def add_already(*, name: str, phone: str, day: str) -> str:
    return say("add_already", who=_who(name, phone), day=day)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    name: str
    phone: str
    wait_minutes: int
    # A called customer who confirmed they are coming (HERE): marked in the queue.
    confirmed: bool = False


def coming_mark() -> str:
    """After a called customer's name in QUEUE when they confirmed (HERE)."""
    return " " + say("coming_mark")


def _serving(e: QueueEntry) -> str:
    return _who(e.name, e.phone) + (coming_mark() if e.confirmed else "")


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
    head = say("queue_head", place=place(place_name), day=day, waiting=total)
    if serving:
        head += " " + say("queue_now") + " " + ", ".join(_serving(e) for e in serving[:2])
        head += f" +{len(serving) - 2}." if len(serving) > 2 else "."
    if not waiting:
        return head
    lines = [
        f"{i} {person(e.name)} {mask_phone(e.phone)[-4:]} {e.wait_minutes}m"
        for i, e in enumerate(waiting, start=1)
    ]
    return fit(lines, head=head + " ", tail="", budget=budget, total=total)


def _minutes(value: float | None) -> str:
    return "-" if value is None else say("minutes", minutes=round(value))


def stats(*, week: bool, figures: Figures, messages: MessageFigures = NO_MESSAGES) -> str:
    """STATS: the period's counts and medians, and the messages sent about the line
    (dropped to SMS alone, then left out, where the numbers would not fit one segment)."""
    rate = "-" if figures.no_show_rate is None else f"{round(figures.no_show_rate * 100)}%"
    text = say(
        "stats",
        label=say("stats_week" if week else "stats_today"),
        served=figures.served,
        no_shows=figures.no_shows,
        rate=rate,
        cancellations=figures.cancellations,
        wait=_minutes(figures.median_wait),
        service=_minutes(figures.median_service),
    )
    text += _off_by(figures.estimate_error)
    for part in _sent(messages):
        if fits_one_segment(text + part):
            return text + part
    return text


def _channel_name(channel: str) -> str:
    return say(f"channel_{channel}") if channel in ("whatsapp", "telegram", "console") else channel


def _sent(messages: MessageFigures) -> list[str]:
    """What STATS may say about the messages sent, longest first (none: nothing)."""
    if not messages.total:
        return []
    sms = messages.sent.get("sms", 0)
    cost = (
        ""
        if messages.estimated_cost is None
        else say("stats_cost", cost=f"{messages.estimated_cost:.2f}")
    )
    on_sms = say("stats_sms", count=sms, segments=messages.sms_segments, cost=cost)
    others = [
        f"{count} {_channel_name(channel)}"
        for channel, count in messages.sent.items()
        if channel != "sms"
    ]
    parts = [" " + say("stats_sent", what=", ".join([on_sms, *others] if sms else others))]
    if sms and others:
        parts.append(" " + say("stats_sent", what=on_sms))
    return parts


def _off_by(error: float | None) -> str:
    """How far quoted waits were from the waits that followed, once any was quoted."""
    return "" if error is None else " " + say("stats_off_by", minutes=_minutes(error))


def delay_usage() -> str:
    return say("delay_usage")


def delay_set(*, minutes: int, told: int) -> str:
    if not minutes:
        return say("delay_cleared")
    people = say("people_one") if told == 1 else say("people_many", count=told)
    return say("delay_set", people=people, minutes=minutes)


def stats_usage() -> str:
    return say("stats_usage")


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
        return say("undo_nothing")
    if outcome is Outcome.ALREADY_UNDONE:
        return say("undo_already")
    undone = say(f"undone_{action.value}")
    if outcome is Outcome.EXPIRED:
        return say("undo_expired", action=undone)
    who = _who(name or "?", phone or "")
    if outcome is Outcome.CHANGED_SINCE:
        return say("undo_changed_since", action=undone, who=who)
    if outcome is Outcome.BOOKED_ELSEWHERE:
        return say("undo_booked_elsewhere", action=undone, who=who)
    if position is not None:
        return say("undone_back_in_line", action=undone, who=who, position=position)
    return say("undone_called_again", action=undone, who=who)
