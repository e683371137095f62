"""The rules of grace periods, without I/O: due times, whether our text reached the
customer, and how minutes and times are written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.rules import grace

CALLED = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def test_a_call_is_reminded_at_half_time_and_expires_at_the_end():
    assert grace.due_times(called_at=CALLED, grace_minutes=15) == {
        grace.Kind.REMINDER: CALLED + timedelta(minutes=7.5),
        grace.Kind.EXPIRY: CALLED + timedelta(minutes=15),
    }


def test_a_fractional_grace_keeps_its_seconds():
    due = grace.due_times(called_at=CALLED, grace_minutes=0.1)
    assert due[grace.Kind.EXPIRY] - CALLED == timedelta(seconds=6)


def test_grace_zero_means_no_timers():
    assert grace.due_times(called_at=CALLED, grace_minutes=0) == {}


@pytest.mark.parametrize(
    ("sent", "delivery_status", "opted_out", "reached"),
    [
        (True, None, False, True),
        (True, "delivered", False, True),
        (True, "Undelivered", False, False),
        (True, "failed", False, False),
        (False, None, False, False),
        (True, "delivered", True, False),
    ],
)
def test_our_text_reached_only_a_reachable_customer_it_was_sent_to(
    sent, delivery_status, opted_out, reached
):
    assert grace.reached(sent=sent, delivery_status=delivery_status, opted_out=opted_out) is reached


@pytest.mark.parametrize(
    ("minutes", "text"), [(15.0, "15"), (0.5, "0.5"), (7.25, "7.25"), (0.1 + 0.2, "0.3")]
)
def test_minutes_read_as_people_write_them(minutes, text):
    assert grace.minutes_text(minutes) == text


def test_an_extended_period_counts_the_extension():
    due = grace.extended(CALLED + timedelta(minutes=15), minutes=10)
    assert grace.period_minutes(called_at=CALLED, due_at=due) == 25


def test_the_time_a_spot_is_held_until_is_the_providers_wall_clock():
    assert grace.clock_time(CALLED, timezone="America/New_York") == "10:00"
