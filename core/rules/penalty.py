"""The reliability penalty.

penalty = cancellation_weight * C(t) + no_show_weight * N(t), where C and N are the
user's cancellations and no-shows with one provider, each event counted as
2^(-age / half_life). The decayed counts are kept as a running score with the time
they were last brought up to date, so booking never reads a user's history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

SECONDS_PER_DAY = 86_400.0


class Event(StrEnum):
    CANCELED = "canceled"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class Weights:
    enabled: bool
    cancellation: float
    no_show: float
    half_life_days: float


@dataclass(frozen=True, slots=True)
class Score:
    """Decayed event counts as of `as_of`."""

    cancellations: float
    no_shows: float
    as_of: datetime


def decay_factor(*, since: datetime, until: datetime, half_life_days: float) -> float:
    age_days = max((until - since).total_seconds(), 0.0) / SECONDS_PER_DAY
    return float(2.0 ** (-age_days / half_life_days))


def decayed(score: Score, *, now: datetime, half_life_days: float) -> Score:
    factor = decay_factor(since=score.as_of, until=now, half_life_days=half_life_days)
    return Score(score.cancellations * factor, score.no_shows * factor, max(now, score.as_of))


def record_event(
    score: Score | None, event: Event, *, at: datetime, half_life_days: float
) -> Score:
    base = (
        Score(0.0, 0.0, at)
        if score is None
        else decayed(score, now=at, half_life_days=half_life_days)
    )
    if event is Event.CANCELED:
        return Score(base.cancellations + 1.0, base.no_shows, base.as_of)
    return Score(base.cancellations, base.no_shows + 1.0, base.as_of)


def penalty(score: Score | None, weights: Weights, *, now: datetime) -> float:
    if score is None or not weights.enabled:
        return 0.0
    current = decayed(score, now=now, half_life_days=weights.half_life_days)
    value = weights.cancellation * current.cancellations + weights.no_show * current.no_shows
    # Rounded so equal histories compare equal in the queue despite float noise.
    return round(value, 6)


# WHY counts an event while it still weighs at least this share of a fresh one.
COUNTING_SHARE = 0.01


def counting_since(*, now: datetime, half_life_days: float) -> datetime:
    """The oldest status change WHY still counts: older events have faded below
    COUNTING_SHARE of their first weight."""
    days = half_life_days * math.log2(1 / COUNTING_SHARE)
    return now - timedelta(days=days)


def falls_below(
    score: Score | None, weights: Weights, *, threshold: float, now: datetime
) -> datetime | None:
    """The moment the penalty drops below `threshold` and stays there: `now` when it is
    below already, None when it never will (a positive penalty under a threshold of 0).

    Both counts fade with the same half-life, so the whole penalty halves every
    half-life: p(t) = p(now) * 2^(-(t - now) / half_life), solved for p(t) = threshold.
    """
    if score is None or not weights.enabled:
        current = 0.0
    else:
        faded = decayed(score, now=now, half_life_days=weights.half_life_days)
        current = weights.cancellation * faded.cancellations + weights.no_show * faded.no_shows
    if current < threshold:
        return now
    if threshold <= 0:
        return None
    days = weights.half_life_days * math.log2(current / threshold)
    try:
        return now + timedelta(days=days)
    except OverflowError:
        # Past the calendar's end (an enormous half-life): as good as never.
        return None


def below_one_cancellation(
    score: Score | None, weights: Weights, *, now: datetime
) -> datetime | None:
    """When the penalty falls below the weight of one fresh cancellation (falls_below)."""
    return falls_below(score, weights, threshold=weights.cancellation, now=now)
