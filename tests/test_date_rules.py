"""The pure rules about dates: the booking horizon, when a visit may be closed,
numeric dates in each country's order, and times of day in a message."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.rules import day_words as dw
from core.rules import days
from core.rules.time_words import take_time
from core.rules.visits import too_early_to_close

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WED = date(2026, 11, 25)
MONTH_FIRST, DAY_FIRST = dw.DateOrder.MONTH_FIRST, dw.DateOrder.DAY_FIRST


def resolve(text: str, order: dw.DateOrder, today: date = WED) -> date:
    found = dw.find_day(text.split())
    assert found.day is not None, text
    return dw.resolve_day(found.day, today=today, order=order)


# The booking horizon --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tz"),
    [
        ("9999-12-31T23:30:00", "America/New_York"),
        ("9999-12-31T23:30:00-05:00", "UTC"),
        ("9999-12-31T20:00:00+00:00", "Asia/Tokyo"),
        (date(9999, 12, 31), "America/New_York"),
        ("9999-12-31", "Pacific/Kiritimati"),
    ],
)
def test_a_moment_at_datetimes_end_is_beyond_the_horizon_not_an_overflow(value, tz):
    with pytest.raises(days.BeyondHorizon) as caught:
        days.booking_moment(value, tz, now=NOW, horizon_days=90)
    assert caught.value.horizon_days == 90
    assert "90 days ahead" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "tz"),
    [("0001-01-01T00:00:00+05:00", "UTC"), ("0001-01-01", "Asia/Tokyo")],
)
def test_a_moment_at_datetimes_start_is_a_past_day_not_an_overflow(value, tz):
    with pytest.raises(days.DayPassed):
        days.booking_moment(value, tz, now=NOW, horizon_days=90)


def test_the_horizon_counts_days_from_the_providers_today():
    moment, day = days.booking_moment("2027-02-23", "UTC", now=NOW, horizon_days=90)
    assert day == date(2027, 2, 23)
    assert moment == datetime(2027, 2, 23, tzinfo=UTC)
    with pytest.raises(days.BeyondHorizon) as caught:
        days.booking_moment("2027-02-24", "UTC", now=NOW, horizon_days=90)
    assert caught.value.last_day == date(2027, 2, 23)


def test_the_last_bookable_day_stops_at_the_calendars_end():
    assert days.last_bookable_day(date(9999, 12, 1), 3650) == date.max
    assert days.last_bookable_day(WED, 1) == date(2026, 11, 26)


def test_a_queue_day_must_be_one_someone_could_have_booked():
    check = {"today": WED, "horizon_days": 10, "opened": date(2026, 1, 1)}
    days.check_listable(date(2026, 12, 5), **check)
    days.check_listable(date(2026, 1, 1), **check)
    for bad in (date(2026, 12, 6), date.max, date.min, date(2025, 12, 31)):
        with pytest.raises(days.InvalidDate):
            days.check_listable(bad, **check)


# Closing a visit --------------------------------------------------------------------


def test_a_visit_closes_on_or_after_its_day_only():
    assert too_early_to_close(day=WED, today=WED) is None
    assert too_early_to_close(day=date(2026, 11, 20), today=WED) is None
    reason = too_early_to_close(day=date(2026, 11, 28), today=WED)
    assert reason is not None
    assert "2026-11-28" in reason


# Numeric dates in the provider's country's order -------------------------------------


@pytest.mark.parametrize(
    ("country", "order"),
    [
        ("US", MONTH_FIRST),
        ("CA", MONTH_FIRST),
        ("PH", MONTH_FIRST),
        ("us", MONTH_FIRST),
        (None, MONTH_FIRST),
        ("GB", DAY_FIRST),
        ("FR", DAY_FIRST),
        ("IN", DAY_FIRST),
        ("AU", DAY_FIRST),
    ],
)
def test_each_country_reads_numeric_dates_in_its_order(country, order):
    assert dw.date_order(country) is order


@pytest.mark.parametrize(
    ("text", "month_first", "day_first"),
    [
        ("03/04", date(2027, 3, 4), date(2027, 4, 3)),
        ("12/24", date(2026, 12, 24), date(2026, 12, 24)),
        ("24/12", date(2026, 12, 24), date(2026, 12, 24)),
        ("12/1", date(2026, 12, 1), date(2027, 1, 12)),
        ("1.12", date(2027, 1, 12), date(2026, 12, 1)),
        ("02/29", date(2028, 2, 29), date(2028, 2, 29)),
        ("03/04/2027", date(2027, 3, 4), date(2027, 4, 3)),
        ("12/24/26", date(2026, 12, 24), date(2026, 12, 24)),
        ("2026-12-03", date(2026, 12, 3), date(2026, 12, 3)),
    ],
)
def test_a_numeric_date_is_read_in_order_unless_only_one_reading_is_a_day(
    text, month_first, day_first
):
    assert resolve(text, MONTH_FIRST) == month_first
    assert resolve(text, DAY_FIRST) == day_first


@pytest.mark.parametrize("text", ["13/13", "31/31", "02/30", "0/5", "30/02/2027"])
@pytest.mark.parametrize("order", list(dw.DateOrder))
def test_a_date_that_is_no_day_either_way_is_refused(text, order):
    with pytest.raises(dw.BadDay):
        resolve(text, order)


def test_yesterday_is_a_day_word_for_the_day_before():
    found = dw.find_day(["spa", "yesterday"])
    assert found == dw.Found(dw.DayWords("yesterday"), ("spa",))
    assert resolve("yesterday", MONTH_FIRST) == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("yesterday", True),
        ("yday", True),
        ("2026-11-01", True),
        ("01/11/2026", True),  # November 1 or January 11: both passed
        ("today", False),
        ("fri", False),
        ("24/11", False),  # without a year: next year's
        ("11/12/2026", False),  # December 11 one way
        ("2026-11-25", False),
        ("31/02", False),  # not a day: said so once a place is known
    ],
)
def test_a_day_passed_everywhere_is_known_before_the_place(text, passed):
    found = dw.find_day([text])
    assert found.day is not None
    assert dw.passed_everywhere(found.day, now=NOW) is passed


def test_a_day_still_today_somewhere_has_not_passed_everywhere():
    early = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 17:00 on the 24th at UTC-12
    assert not dw.passed_everywhere(dw.DayWords("2026-11-24"), now=early)
    assert dw.passed_everywhere(dw.DayWords("2026-11-24"), now=NOW)


def test_a_day_may_be_matched_in_either_order_among_ones_own_appointments():
    words = dw.DayWords("03/04")
    assert dw.could_be(words, date(2027, 3, 4), today=WED)
    assert dw.could_be(words, date(2027, 4, 3), today=WED)
    assert not dw.could_be(words, date(2027, 4, 4), today=WED)
    assert not dw.could_be(dw.DayWords("31/31"), date(2027, 4, 4), today=WED)


# Times of day -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "time", "rest"),
    [
        ("join spa at 3pm", "at 3pm", "join spa"),
        ("join spa 3 pm tomorrow", "3 pm", "join spa tomorrow"),
        ("join spa 15:00", "15:00", "join spa"),
        ("join spa at 3:30 pm", "at 3:30 pm", "join spa"),
        ("join spa at 3", "at 3", "join spa"),
        ("join at 10.30 spa", "at 10.30", "join spa"),
        ("book at 11 a.m. tomorrow", "at 11 a.m.", "book tomorrow"),
        ("join spa at 3 o'clock", "at 3 o'clock", "join spa"),
        ("join spa at noon", "at noon", "join spa"),
        ("JOIN SPA @ 9AM", "@ 9AM", "JOIN SPA"),
    ],
)
def test_a_time_of_day_is_recognised_and_taken_out(text, time, rest):
    found = take_time(text)
    assert found is not None
    assert found.text == time
    assert " ".join(found.rest.split()) == rest


@pytest.mark.parametrize(
    "text",
    [
        "join spa",
        "join spa 24/12",
        "join spa at 12/24",
        "join spa at 3.12.2026",
        "join +1 415 555 0100 2026-12-24",
        "join the queue at spa 24/12",
        "join spa at 25",
        "join spam",
        "join 3pmx",
        "done 3",
    ],
)
def test_dates_numbers_and_words_are_not_times(text):
    assert take_time(text) is None
