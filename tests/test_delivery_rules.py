"""core.rules.delivery: when a proactive message is too old to send, and which
delivery report is the latest word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.rules.delivery import DEFAULT_MAX_AGE, supersedes, too_old

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_the_default_maximum_age_is_two_hours():
    assert timedelta(hours=2) == DEFAULT_MAX_AGE


@pytest.mark.parametrize(
    ("age", "stale"),
    [
        (timedelta(0), False),
        (timedelta(minutes=119), False),
        (timedelta(hours=2), False),
        (timedelta(hours=2, seconds=1), True),
        (timedelta(days=1), True),
    ],
)
def test_a_message_is_too_old_only_past_the_maximum_age(age, stale):
    reason = too_old(created_at=NOW - age, now=NOW, max_age=timedelta(hours=2))
    assert (reason is not None) == stale


def test_the_reason_says_how_old_the_message_is_and_the_limit():
    reason = too_old(created_at=NOW - timedelta(hours=26, minutes=5), now=NOW, max_age=DEFAULT_MAX_AGE)
    assert reason == "too old to send: written 26 h 05 min ago, limit 2 h 00 min"
    short = too_old(created_at=NOW - timedelta(minutes=45), now=NOW, max_age=timedelta(minutes=30))
    assert short == "too old to send: written 45 min ago, limit 30 min"


def test_no_maximum_age_means_never_too_old():
    assert too_old(created_at=NOW - timedelta(days=365), now=NOW, max_age=None) is None


@pytest.mark.parametrize(
    ("new", "old", "replaces"),
    [
        ("queued", None, True),
        ("sent", "queued", True),
        ("delivered", "sent", True),
        ("sent", "delivered", False),
        ("queued", "undelivered", False),
        ("undelivered", "sent", True),
        ("read", "delivered", True),
        ("delivered", "read", False),
        ("delivered", "delivered", True),
        ("something-new", "queued", False),
    ],
)
def test_a_delivery_report_never_replaces_a_later_one(new, old, replaces):
    assert supersedes(new, old) is replaces
