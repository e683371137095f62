"""Where an appointment stands in its day's waiting line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spot:
    position: int
    ahead: int
    wait_minutes: int
