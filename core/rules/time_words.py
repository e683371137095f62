"""Times of day as people text them: 3pm, 3:30 pm, 15:00, at 3, at 10.30, noon.

Lines are first come, first served, so a time cannot be booked. It is still
recognised, to tell the customer so, and taken out of the message, so that "3pm" is
never read as part of a place's name nor silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOUR = r"(?:[01]?\d|2[0-3])"
_MINUTES = r"[0-5]\d"
_AMPM = r"(?:a\.?m\b\.?|p\.?m\b\.?)"
_OCLOCK = r"(?:\s*o['’]?\s?clock\b)?"
_AT = r"(?:(?<![^\W\d_])at\s+|@\s*)"
_TIME = re.compile(
    rf"""
    (?<![\w:./\-+])
    (?:
        {_AT}?{_HOUR}(?::{_MINUTES})?\s*{_AMPM}          # 3pm, 3:30 pm, at 11 a.m.
      | {_AT}?{_HOUR}:{_MINUTES}(?![\w:])                 # 15:00, at 9:30
      | {_AT}{_HOUR}(?:\.{_MINUTES})?{_OCLOCK}(?![\w:/.\-])  # at 3, at 10.30, at 3 o'clock
      | {_AT}?(?:noon|midday|midnight)\b                  # at noon
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class TimeFound:
    # The first time in the message, as written.
    text: str
    # The message with every time taken out.
    rest: str


def take_time(text: str) -> TimeFound | None:
    """The times of day in `text`, if any, and the text without them."""
    match = _TIME.search(text)
    if match is None:
        return None
    return TimeFound(text=match.group(0).strip(), rest=_TIME.sub(" ", text))
