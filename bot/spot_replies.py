"""What the engine says to a customer in line about their spot: HERE, LATE, AWAY and
WHY (bot.replies holds the rest and the phrasing both share). Each fits one SMS
segment, as every core reply does."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import Standing, fit, place, spot_phrase, standing_line
from core.rules.gsm import SINGLE_GSM, septets
from core.rules.queue_spot import Spot


def coming_confirmed(*, place_name: str) -> str:
    return f"Thanks! {place(place_name)} knows you're coming. Text LEAVE if you can't make it."


def not_called_yet(standings: Sequence[Standing]) -> str:
    """HERE from a customer still waiting: where they are, and that they will be told."""
    tail = " It's not your turn yet: we'll text you when it is."
    if len(standings) == 1:
        return f"{standing_line(standings[0])}.{tail}"
    return fit([standing_line(s) for s in standings], head="Your spots: ", tail=tail, budget=SINGLE_GSM)


def moved_back(*, place_name: str, spot: Spot) -> str:
    """LATE: the customer moved back; where they stand now."""
    return (
        f"No problem. {place(place_name)}: you're now {spot_phrase(spot)}. "
        "Text LEAVE if you can't make it."
    )


def kept_place(*, place_name: str, spot: Spot) -> str:
    """LATE when nobody behind would be served before the customer gets there."""
    return (
        f"You keep your place, you'll be in time. {place(place_name)}: {spot_phrase(spot)}. "
        "Text LEAVE if you can't make it."
    )


def late_limit(*, place_name: str, spot: Spot) -> str:
    return (
        f"Sorry, you've already moved back twice at {place(place_name)}. "
        f"You're {spot_phrase(spot)}. Text LEAVE if you can't make it."
    )


def late_when_called(*, place_name: str) -> str:
    return (
        f"It's your turn now at {place(place_name)} and they're waiting for you. "
        "We've told them you're running late. Text LEAVE if you can't make it."
    )


def late_held(*, place_name: str, until: str) -> str:
    """LATE from a called customer whose grace period it extended."""
    return (
        f"It's your turn at {place(place_name)}. We told them you're running late; "
        f"your spot is held until {until}. Text LEAVE if you can't make it."
    )


def late_held_once(*, place_name: str) -> str:
    """LATE again from a called customer: the grace period is extended once only."""
    return (
        f"It's your turn at {place(place_name)} and they're waiting. Your spot was held "
        "longer once already and can't be again. Text LEAVE if you can't make it."
    )


def away_noted(*, place_name: str, spot: Spot, travel_minutes: int) -> str:
    return (
        f"Got it, {travel_minutes} min away. {place(place_name)}: {spot_phrase(spot)}. "
        "We'll text you when it's time to head over."
    )


def away_go_now(*, place_name: str, spot: Spot) -> str:
    return (
        f"Time to head over to {place(place_name)}: you're {spot_phrase(spot)}. "
        "Text LATE if you need more time."
    )


def away_how_far() -> str:
    return "How many minutes away are you? Text e.g. AWAY 20."


def why_clean(*, place_name: str) -> str:
    return (
        f"{place(place_name)}: you have no cancellations or no-shows counting; "
        "your place is by the time you joined."
    )


def _number(x: float) -> str:
    """A weight or a half-life as a person reads it: 1, 0.5, 1.25."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text if len(text) <= 8 else f"{x:.3g}"


def _counted(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def why(
    *,
    place_name: str,
    cancellations: int,
    no_shows: int,
    weight: float,
    cancellation_weight: float,
    half_life_days: float,
    below: str | None,
) -> str:
    """WHY for a customer whose record weighs on their place; `below` is the day their
    weight falls below one cancellation's ("already" when it has, None if never)."""
    weighs = "under 0.01" if weight < 0.005 else _number(weight)
    one = _number(cancellation_weight)
    if below == "already":
        after = f" That is below one cancellation's ({one})."
    elif below is not None:
        after = f" Below one cancellation's ({one}) from {below}."
    else:
        after = ""
    counts = f"{_counted(cancellations, 'cancellation')}, {_counted(no_shows, 'no-show')} count"
    fading = f" (each halves every {_number(half_life_days)} days)"
    text = f"{place(place_name)}: {counts}{fading}. Your weight today: {weighs}.{after}"
    if septets(text) > SINGLE_GSM:
        text = f"{place(place_name)}: {counts}. Your weight today: {weighs}.{after}"
    return text
