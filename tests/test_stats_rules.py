"""The figures of a range (core.rules.stats) on synthetic records, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.rules import exports
from core.rules import stats as s

DAY = date(2026, 12, 1)
PARIS = "Europe/Paris"
OPENING = s.midnight_opening("UTC")


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def served(booked: datetime, called: datetime, done: datetime, day: date = DAY) -> s.Record:
    return s.Record(day=day, status=s.SERVED, booked_at=booked, called_at=called, closed_at=done)


def closed(status: str, day: date = DAY) -> s.Record:
    return s.Record(day=day, status=status, booked_at=at(9, 0, day), closed_at=at(10, 0, day))


def test_counts_and_the_no_show_rate_are_over_served_plus_no_shows():
    records = [
        served(at(9), at(9, 10), at(9, 30)),
        served(at(9), at(9, 20), at(9, 40)),
        served(at(9), at(9, 30), at(9, 50)),
        closed(s.NO_SHOW),
        closed(s.CANCELED),
        closed(s.CANCELED),
        s.Record(day=DAY, status="active", booked_at=at(11)),
    ]
    total = s.summarize(records, start=DAY, end=DAY, opening=OPENING).total
    assert (total.served, total.no_shows, total.cancellations) == (3, 1, 2)
    assert total.no_show_rate == pytest.approx(0.25)


def test_the_no_show_rate_is_null_when_nobody_was_served_or_missed():
    total = s.summarize([closed(s.CANCELED)], start=DAY, end=DAY, opening=OPENING).total
    assert total.no_show_rate is None
    assert total.median_wait is None
    assert total.p90_wait is None
    assert total.median_service is None


def test_waits_run_from_joining_to_being_called_with_median_and_90th_percentile():
    # Waits of 0, 10, ..., 90 minutes.
    records = [served(at(9), at(9) + timedelta(minutes=10 * i), at(11)) for i in range(10)]
    total = s.summarize(records, start=DAY, end=DAY, opening=OPENING).total
    assert total.median_wait == pytest.approx(45)
    assert total.p90_wait == pytest.approx(81)


def test_a_booking_made_on_an_earlier_day_waits_from_the_days_opening():
    booked_last_week = at(15, 0, DAY - timedelta(days=7))
    record = served(booked_last_week, at(0, 40), at(1))
    assert s.wait_minutes(record, opening=OPENING) == pytest.approx(40)


def test_the_day_opens_at_midnight_in_the_providers_time_zone():
    # Midnight in Paris on 1 December is 23:00 UTC the day before.
    record = served(at(12, 0, DAY - timedelta(days=1)), at(0, 30), at(1))
    assert s.wait_minutes(record, opening=s.midnight_opening(PARIS)) == pytest.approx(90)


def test_a_same_day_booking_waits_from_its_booking_not_from_the_opening():
    record = served(at(9, 5), at(9, 50), at(10))
    assert s.wait_minutes(record, opening=OPENING) == pytest.approx(45)


def test_service_time_runs_from_being_called_to_done_and_only_for_served_visits():
    records = [
        served(at(9), at(10), at(10, 12)),
        served(at(9), at(10), at(10, 20)),
        served(at(9), at(10), at(10, 40)),
        # Called, then missed: a wait, but no service.
        s.Record(day=DAY, status=s.NO_SHOW, booked_at=at(9), called_at=at(10), closed_at=at(11)),
        # Done without being called first: no service time can be measured.
        s.Record(day=DAY, status=s.SERVED, booked_at=at(9), closed_at=at(12)),
    ]
    total = s.summarize(records, start=DAY, end=DAY, opening=OPENING).total
    assert total.median_service == pytest.approx(20)
    assert total.median_wait == pytest.approx(60)


def test_the_estimate_error_is_the_median_distance_between_quoted_and_actual_waits():
    def quoted(wait: int, quote: float) -> s.Record:
        return s.Record(
            day=DAY,
            status=s.SERVED,
            booked_at=at(9),
            called_at=at(9) + timedelta(minutes=wait),
            closed_at=at(12),
            quoted_wait=quote,
        )

    records = [quoted(30, 20), quoted(30, 35), quoted(30, 60), served(at(9), at(9, 30), at(10))]
    assert s.summarize(records, start=DAY, end=DAY, opening=OPENING).total.estimate_error == 10


def test_without_quoted_waits_the_estimate_error_is_null():
    records = [served(at(9), at(9, 30), at(10))]
    assert s.summarize(records, start=DAY, end=DAY, opening=OPENING).total.estimate_error is None


def test_figures_come_per_day_in_order_and_totals_are_over_all_records_not_the_days():
    second = DAY + timedelta(days=1)
    records = [
        served(at(9, 0, second), at(9, 50, second), at(10, 0, second), day=second),
        served(at(9), at(9, 10), at(9, 30)),
        served(at(9), at(9, 20), at(9, 30)),
        closed(s.NO_SHOW, second),
    ]
    stats = s.summarize(records, start=DAY, end=second + timedelta(days=5), opening=OPENING)
    assert [d.day for d in stats.days] == [DAY, second]
    first_day, second_day = (d.figures for d in stats.days)
    assert (first_day.served, first_day.no_show_rate, first_day.median_wait) == (2, 0, 15)
    assert (second_day.served, second_day.no_show_rate, second_day.median_wait) == (1, 0.5, 50)
    # The median of all three waits (10, 20, 50), not of the two days' medians.
    assert stats.total.median_wait == 20
    assert stats.total.served == 3


def test_a_clock_set_back_counts_as_no_wait_rather_than_a_negative_one():
    record = served(at(10), at(9, 55), at(10, 30))
    assert s.wait_minutes(record, opening=OPENING) == 0


def test_quantiles_interpolate_between_the_closest_ranks():
    assert s.quantile([], 0.5) is None
    assert s.quantile([7], 0.9) == 7
    assert s.quantile([4, 1, 3, 2], 0.5) == 2.5
    assert s.quantile([10, 20], 0.9) == pytest.approx(19)


def test_a_range_runs_forwards_and_spans_at_most_366_days():
    s.check_range(DAY, DAY)
    s.check_range(DAY, DAY + timedelta(days=365))
    with pytest.raises(s.BadRange, match="on or before"):
        s.check_range(DAY, DAY - timedelta(days=1))
    with pytest.raises(s.BadRange, match="366"):
        s.check_range(DAY, DAY + timedelta(days=366))


def test_stats_day_is_today_and_stats_week_the_seven_days_ending_today():
    assert s.period("day", today=DAY) == (DAY, DAY)
    assert s.period("week", today=DAY) == (DAY - timedelta(days=6), DAY)


def test_an_export_row_masks_the_phone_and_writes_times_in_utc():
    row = exports.ExportRow(
        id=7,
        day=DAY,
        status="completed",
        booked_at=datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC),
        called_at=None,
        closed_at=at(11),
        customer_name="Ann Lee",
        customer_phone="+14155550101",
    )
    cells = exports.cells(row)
    assert cells == (
        "7",
        "2026-12-01",
        "completed",
        "2026-12-01T10:00:30Z",
        "",
        "2026-12-01T11:00:00Z",
        "Ann Lee",
        "***0101",
        "",
    )
    assert len(cells) == len(exports.HEADER)
    quoted = exports.cells(replace(row, quoted_wait_minutes=25))
    assert quoted[-1] == "25"
