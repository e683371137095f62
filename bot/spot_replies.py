"""What the engine says to a customer in line about their spot: HERE, LATE, AWAY and
WHY (bot.replies holds the rest and the phrasing both share; the words are the
catalogs', core.locales). Each fits one SMS segment, as every core reply does."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import Standing, fit, place, spot_phrase, standing_line
from core.locales import say
from core.rules.gsm import SINGLE_GSM, septets
from core.rules.queue_spot import Spot


def coming_confirmed(*, place_name: str) -> str:
    return say("coming_confirmed", place=place(place_name))


def not_called_yet(standings: Sequence[Standing]) -> str:
    """HERE from a customer still waiting: where they are, and that they will be told."""
    tail = " " + say("not_called_yet")
    if len(standings) == 1:
        return f"{standing_line(standings[0])}.{tail}"
    return fit(
        [standing_line(s) for s in standings],
        head=say("your_spots") + " ",
        tail=tail,
        budget=SINGLE_GSM,
    )


def moved_back(*, place_name: str, spot: Spot) -> str:
    """LATE: the customer moved back; where they stand now."""
    return say("moved_back", place=place(place_name), spot=spot_phrase(spot))


def kept_place(*, place_name: str, spot: Spot) -> str:
    """LATE when nobody behind would be served before the customer gets there."""
    return say("kept_place", place=place(place_name), spot=spot_phrase(spot))


def late_limit(*, place_name: str, spot: Spot) -> str:
    return say("late_limit", place=place(place_name), spot=spot_phrase(spot))


def late_when_called(*, place_name: str) -> str:
    return say("late_when_called", place=place(place_name))


def late_held(*, place_name: str, until: str) -> str:
    """LATE from a called customer whose grace period it extended."""
    return say("late_held", place=place(place_name), until=until)


def late_held_once(*, place_name: str) -> str:
    """LATE again from a called customer: the grace period is extended once only."""
    return say("late_held_once", place=place(place_name))


def away_noted(*, place_name: str, spot: Spot, travel_minutes: int) -> str:
    return say(
        "away_noted", minutes=travel_minutes, place=place(place_name), spot=spot_phrase(spot)
    )


def away_go_now(*, place_name: str, spot: Spot) -> str:
    return say("away_go_now", place=place(place_name), spot=spot_phrase(spot))


def away_how_far() -> str:
    return say("away_how_far")


def why_clean(*, place_name: str) -> str:
    return say("why_clean", place=place(place_name))


def _number(x: float) -> str:
    """A weight or a half-life as a person reads it: 1, 0.5, 1.25."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text if len(text) <= 8 else f"{x:.3g}"


def _counted(n: int, key: str) -> str:
    return say(f"{key}_one" if n == 1 else f"{key}_many", count=n)


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
    weighs = say("weight_tiny") if weight < 0.005 else _number(weight)
    one = _number(cancellation_weight)
    if below == "already":
        after = " " + say("why_below_already", one=one)
    elif below is not None:
        after = " " + say("why_below_from", one=one, day=below)
    else:
        after = ""
    counts = say(
        "why_counts",
        cancellations=_counted(cancellations, "cancellations"),
        no_shows=_counted(no_shows, "no_shows"),
    )
    fading = " " + say("why_fading", days=_number(half_life_days))
    weight_today = say("why_weight", weight=weighs)
    text = f"{place(place_name)}: {counts}{fading}. {weight_today}{after}"
    if septets(text) > SINGLE_GSM:
        text = f"{place(place_name)}: {counts}. {weight_today}{after}"
    return text
