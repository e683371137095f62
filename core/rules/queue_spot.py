"""Where an appointment stands in its day's waiting line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spot:
    position: int
    ahead: int
    # The quoted wait (core.rules.estimate), and its low and high ends once the
    # provider has service history; None without a range.
    wait_minutes: int
    wait_range: tuple[int, int] | None = None
    # The spot's ticket number, told at joining by a provider whose board shows
    # tickets (board_names "ticket"); None otherwise.
    ticket: int | None = None
