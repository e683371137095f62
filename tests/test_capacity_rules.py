"""The capacity rules without I/O: room under both limits, the next day with room,
CLOSE's day, and the wait that chairs divide."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.rules.capacity import (
    DayLoad,
    Limits,
    has_room,
    is_closed,
    next_day_with_room,
    wait_minutes,
)
from core.rules.estimate import Basis
from core.services.line_ranks import Ranking

DAY = date(2026, 11, 18)


def test_no_limit_always_has_room():
    assert has_room(DayLoad(waiting=10_000, booked=10_000), Limits())


@pytest.mark.parametrize(
    ("load", "limits", "room"),
    [
        (DayLoad(waiting=2, booked=5), Limits(max_waiting=3), True),
        (DayLoad(waiting=3, booked=3), Limits(max_waiting=3), False),
        (DayLoad(waiting=0, booked=4), Limits(daily_limit=5), True),
        (DayLoad(waiting=0, booked=5), Limits(daily_limit=5), False),
        # Either limit refuses on its own.
        (DayLoad(waiting=1, booked=5), Limits(max_waiting=3, daily_limit=5), False),
        (DayLoad(waiting=3, booked=3), Limits(max_waiting=3, daily_limit=5), False),
    ],
)
def test_a_join_fits_only_under_both_limits(load, limits, room):
    assert has_room(load, limits) is room


def test_the_next_day_with_room_skips_full_days_and_stops_at_the_horizon():
    limits = Limits(daily_limit=2)
    full = DayLoad(waiting=2, booked=2)
    loads = {DAY + timedelta(days=1): full, DAY + timedelta(days=2): full}
    assert next_day_with_room(loads, limits, after=DAY, last=DAY + timedelta(days=5)) == (
        DAY + timedelta(days=3)
    )
    assert next_day_with_room(loads, limits, after=DAY, last=DAY + timedelta(days=2)) is None


def test_close_stops_only_the_day_it_was_sent():
    assert is_closed(DAY, closed_on=DAY, today=DAY)
    assert not is_closed(DAY + timedelta(days=1), closed_on=DAY, today=DAY)
    # A CLOSE from yesterday has ended with its day.
    assert not is_closed(DAY, closed_on=DAY - timedelta(days=1), today=DAY)
    assert not is_closed(DAY, closed_on=None, today=DAY)


@pytest.mark.parametrize(
    ("ahead", "chairs", "wait"), [(90, 1, 90), (90, 3, 30), (100, 3, 33), (0, 3, 0)]
)
def test_chairs_divide_the_minutes_ahead(ahead, chairs, wait):
    assert wait_minutes(ahead, chairs) == wait


def test_a_cached_ranking_divides_the_wait_by_the_chairs_it_is_asked_with():
    ranking = Ranking.of(1, [(11, 30), (12, 30), (13, 30), (14, 30)])
    assert ranking.spot(14).wait_minutes == 90
    assert ranking.spot(14, basis=Basis(chairs=3)).wait_minutes == 30
