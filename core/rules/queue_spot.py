"""Where an appointment stands in its day's waiting line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spot:
    position: int
    ahead: int
    wait_minutes: int


def spot_in(waiting: Sequence[tuple[int, int]], appointment_id: int) -> Spot | None:
    """`waiting` is the ranked line as (appointment id, duration in minutes); the wait
    is the time the people ahead will take."""
    wait = 0
    for index, (current_id, duration) in enumerate(waiting):
        if current_id == appointment_id:
            return Spot(position=index + 1, ahead=index, wait_minutes=wait)
        wait += duration
    return None
