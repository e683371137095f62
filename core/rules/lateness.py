"""LATE and AWAY: how many minutes a text gives, where a late customer moves to, and
when a customer on their way should set off. Pure functions of plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# LATE without a number.
DEFAULT_LATE_MINUTES = 15
# LATE moves one spot back at most this many times; the next LATE is refused.
MAX_LATE_MOVES = 2
# A customer on their way hears "time to head over" when their wait falls to their
# travel time plus this much: they arrive a little before their turn, not after it.
HEAD_OVER_MARGIN_MINUTES = 5
# Larger numbers are not minutes anyone means in a waiting line (a year, a phone).
MAX_MINUTES = 240

_MINUTE_WORDS = frozenset({"min", "mins", "minute", "minutes", "m"})


def minutes_in(words: Sequence[str]) -> int | None:
    """The minutes a text gives ("late 15", "I'll be 20 min late", "20 minutes out"):
    its first whole number from 1 to MAX_MINUTES, else None."""
    for word in words:
        text = word.lower()
        for unit in ("minutes", "minute", "mins", "min", "m"):
            if text.endswith(unit) and text[: -len(unit)].isdecimal():
                text = text[: -len(unit)]
                break
        if text.isdecimal() and text.isascii():
            n = int(text)
            return n if 1 <= n <= MAX_MINUTES else None
    return None


def is_minute_word(word: str) -> bool:
    return word.lower() in _MINUTE_WORDS


def behind_count(waits_behind: Sequence[int], minutes: int) -> int:
    """How many of those behind a late customer they move behind: everyone whose turn
    would come before the customer gets there (their wait, counted without the late
    customer, is under `minutes`). `waits_behind` are those waits in line order."""
    count = 0
    for wait in waits_behind:
        if wait >= minutes:
            break
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class Key:
    """A spot's place in its line before the id: as core.services.line_order.SortKey."""

    penalty: float
    at: datetime


@dataclass(frozen=True, slots=True)
class Placed:
    """A spot of the line: its key, and its id, which breaks exact ties."""

    key: Key
    id: int

    def order(self) -> tuple[float, datetime, int]:
        return (self.key.penalty, self.key.at, self.id)


_TICK = timedelta(microseconds=1)
# How far after the person it moves behind a moved spot lands, at most: close enough
# that nobody else's key falls between, unless they already were that close.
_STEP = timedelta(milliseconds=1)


def key_between(before: Placed, after: Placed | None, *, me: int) -> Key:
    """A key for spot `me` that puts it right after `before` and before `after` (None:
    the end of the line): strictly between the two keys when the stored time can tell
    them apart, else (neighbours booked in the same microsecond) a key tying with one
    of them, so the id decides; failing both, just after `before`'s key, behind those
    that tie with it."""
    b = before.key
    if after is None or b.penalty < after.key.penalty:
        return Key(b.penalty, b.at + _TICK)
    gap = after.key.at - b.at
    if gap > _TICK:
        return Key(b.penalty, b.at + min(gap / 2, _STEP))
    for tie in (b, after.key):
        mine = (tie.penalty, tie.at, me)
        if before.order() < mine < after.order():
            return tie
    return Key(b.penalty, b.at + _TICK)


def head_over_due(*, wait_minutes: int, travel_minutes: int) -> bool:
    """Whether a customer this far away should set off now."""
    return wait_minutes <= travel_minutes + HEAD_OVER_MARGIN_MINUTES
