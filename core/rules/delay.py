"""DELAY n [note]: how far behind a provider runs today, read from its text and added to
the waits its customers are quoted that day."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Half a day: beyond it a provider is closed rather than late.
MAX_DELAY_MINUTES = 720
_MINUTE_WORDS = frozenset({"m", "min", "mins", "minute", "minutes"})
_MINUTES = re.compile(r"^(\d{1,4})(m|min|mins|minutes?)?$", re.IGNORECASE)


class BadDelay(ValueError):
    """DELAY without a number of minutes from 0 to MAX_DELAY_MINUTES first."""


@dataclass(frozen=True, slots=True)
class Delay:
    minutes: int
    note: str | None


def read_delay(words: Sequence[str]) -> Delay:
    """`DELAY 20`, `please delay 20 min`, `DELAY 20m flat tyre`: the minutes (the first
    number, so the command word and any greeting before it are skipped) and the note
    (the words after it, as typed)."""
    found = next(((i, m) for i, word in enumerate(words) if (m := _MINUTES.match(word))), None)
    if found is None:
        raise BadDelay("no minutes")
    at, match = found
    rest = list(words[at + 1 :])
    if not 0 <= int(match[1]) <= MAX_DELAY_MINUTES:
        raise BadDelay(words[at])
    if match[2] is None and rest and rest[0].lower() in _MINUTE_WORDS:
        rest = rest[1:]
    note = " ".join(rest).strip()
    return Delay(int(match[1]), note or None)


def delay_on(day: date, *, delay_day: date | None, minutes: int | None) -> int:
    """The delay that applies to waits on `day`: only the day it was set for."""
    return minutes or 0 if delay_day == day else 0
