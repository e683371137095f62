"""Opening hours as plain rules: what the admin API accepts, which days are open, the
next open day and a day's closing time."""

from __future__ import annotations

from datetime import date, time

import pytest

from core.rules.hours import (
    InvalidHours,
    OpeningHours,
    check_closed_dates,
    check_hours,
    turn_after_closing,
)

SPLIT = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["10:00", "14:00"]]}
MON, TUE, SAT = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 21)


def test_valid_hours_are_kept_as_given():
    assert check_hours(SPLIT) == SPLIT
    assert check_hours(None) is None
    assert check_hours({}) == {}


@pytest.mark.parametrize(
    ("hours", "says"),
    [
        ({"monday": [["09:00", "12:00"]]}, "unknown day"),
        ({"mon": [["9:00", "12:00"]]}, "HH:MM"),
        ({"mon": [["09:00", "24:00"]]}, "HH:MM"),
        ({"mon": [["09:60", "12:00"]]}, "HH:MM"),
        ({"mon": [["12:00", "09:00"]]}, "opens must be before closes"),
        ({"mon": [["09:00", "09:00"]]}, "opens must be before closes"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "not overlap"),
        ({"mon": [["13:00", "17:00"], ["09:00", "12:00"]]}, "in order"),
        ({"mon": [["09:00"]]}, "pair"),
        ({"mon": "09:00-12:00"}, "list"),
        ({"mon": [[9, 12]]}, "HH:MM"),
        ([["09:00", "12:00"]], "object"),
    ],
)
def test_bad_hours_are_refused_saying_why(hours, says):
    with pytest.raises(InvalidHours, match=says):
        check_hours(hours)


def test_closed_dates_are_sorted_iso_dates_without_repeats():
    assert check_closed_dates(["2026-12-25", "2026-01-01", "2026-12-25"]) == [
        "2026-01-01",
        "2026-12-25",
    ]


@pytest.mark.parametrize("bad", [["2026-02-30"], ["25/12/2026"], [20261225], "2026-12-25"])
def test_bad_closed_dates_are_refused(bad):
    with pytest.raises(InvalidHours, match="closed_dates"):
        check_closed_dates(bad)


def test_a_day_missing_from_the_hours_is_closed_and_a_closed_date_too():
    hours = OpeningHours.of(SPLIT, ["2026-11-21"])
    assert hours.is_open(MON)
    assert not hours.is_open(TUE)
    assert not hours.is_open(SAT)


def test_without_hours_every_day_is_open_but_closed_dates():
    hours = OpeningHours.of(None, ["2026-11-17"])
    assert hours.is_open(MON)
    assert hours.is_open(SAT)
    assert not hours.is_open(TUE)
    assert hours.closing_time(MON) is None


def test_the_next_open_day_skips_closed_weekdays_and_dates():
    hours = OpeningHours.of(SPLIT, ["2026-11-21"])
    assert hours.next_open_day(MON) == date(2026, 11, 23)
    assert OpeningHours.of(SPLIT, None).next_open_day(MON) == SAT
    assert hours.next_open_day(MON, last=date(2026, 11, 22)) is None
    assert OpeningHours.of({}, None).next_open_day(MON) is None


def test_a_days_closing_time_is_the_end_of_its_last_interval():
    hours = OpeningHours.of(SPLIT, None)
    assert hours.closing_time(MON) == time(17, 0)
    assert hours.closing_time(TUE) is None


def test_a_turn_exactly_at_closing_is_in_time_and_one_minute_later_is_not():
    assert not turn_after_closing(time(17, 0), local_now=time(16, 30), wait_minutes=30)
    assert turn_after_closing(time(17, 0), local_now=time(16, 30), wait_minutes=31)
    assert turn_after_closing(time(17, 0), local_now=time(17, 5), wait_minutes=0)
