"""The pure rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.rules import penalty as p
from core.rules.days import (
    InvalidDate,
    InvalidTimezone,
    local_day,
    parse_appointment_moment,
    parse_day,
    today_in,
    validate_timezone,
)
from core.rules.phones import InvalidPhone, mask_phone, mask_phones_in, normalize_phone
from core.rules.ratelimit import Verdict, inbound_verdict

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DEFAULT = p.Weights(enabled=True, cancellation=1.0, no_show=2.0, half_life_days=30.0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155550101", "+14155550101"),
        ("+1 (415) 555-0101", "+14155550101"),
        ("+1.415.555.0101", "+14155550101"),
        (" 12025550179", "+12025550179"),
        ("  +12025550179", "+12025550179"),
        ("+1234567", "+1234567"),
        ("+12345678901234567", "+12345678901234567"),
        ("+1 415 555 0108\n", "+14155550108"),
        ("\t+1\u00a0415\u2009555 0108\r\n", "+14155550108"),
        ("+１４１５５５５０１０８", "+14155550108"),
        ("＋1 (415) 555－0108", "+14155550108"),
    ],
)
def test_phones_are_normalised_to_plus_and_digits(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "14155550101",
        "+123456",
        "+123456789012345678",
        "+1415abc0101",
        "++14155550101",
        "+",
        "+١٤١٥٥٥٥٠١٠٨",  # Arabic-Indic digits: NFKC keeps them, and only ASCII digits count
        "+१४१५५५५०१०८",
        "+14155550108\n+14155550109",
    ],
)
def test_anything_else_is_not_a_phone(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_masking_keeps_only_the_last_four_digits():
    assert mask_phone("+14155550101") == "***0101"
    assert mask_phones_in("GET /users/+14155550101?x=%2B12025550179") == (
        "GET /users/***0101?x=***0179"
    )
    assert mask_phones_in("/appointments/42") == "/appointments/42"


def test_a_bare_day_is_local_midnight_in_the_providers_zone():
    moment = parse_appointment_moment("2026-03-10", "America/New_York")
    assert moment == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert local_day(moment, "America/New_York") == date(2026, 3, 10)


def test_a_naive_datetime_is_read_in_the_providers_zone_and_an_offset_is_kept():
    naive = parse_appointment_moment("2026-03-10T23:30:00", "Asia/Tokyo")
    assert naive == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    offset = parse_appointment_moment("2026-03-10T23:30:00+00:00", "Asia/Tokyo")
    # 23:30 UTC is already the 11th in Tokyo: the day follows the provider's zone.
    assert local_day(offset, "Asia/Tokyo") == date(2026, 3, 11)


def test_today_depends_on_the_providers_zone():
    now = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    assert today_in("UTC", now=now) == date(2026, 3, 10)
    assert today_in("Europe/Berlin", now=now) == date(2026, 3, 11)


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "10/03/2026", "tomorrow", ""])
def test_malformed_days_are_refused(text):
    with pytest.raises(InvalidDate):
        parse_day(text)


def test_unknown_time_zones_are_refused():
    with pytest.raises(InvalidTimezone):
        validate_timezone("Mars/Olympus")
    assert validate_timezone("Europe/Paris") == "Europe/Paris"


def test_a_new_user_has_no_penalty():
    assert p.penalty(None, DEFAULT, now=T0) == 0.0


def test_each_event_counts_its_weight_when_fresh():
    score = p.record_event(None, p.Event.CANCELED, at=T0, half_life_days=30)
    score = p.record_event(score, p.Event.NO_SHOW, at=T0, half_life_days=30)
    assert p.penalty(score, DEFAULT, now=T0) == 3.0


def test_an_event_counts_half_after_one_half_life():
    score = p.record_event(None, p.Event.NO_SHOW, at=T0, half_life_days=30)
    assert p.penalty(score, DEFAULT, now=T0 + timedelta(days=30)) == 1.0
    assert p.penalty(score, DEFAULT, now=T0 + timedelta(days=60)) == 0.5


def test_the_running_score_equals_the_sum_over_the_history():
    # A no-show 60 days ago and a cancellation 30 days ago, seen today:
    # 2 * 2^-2 + 1 * 2^-1 = 1.0
    score = p.record_event(None, p.Event.NO_SHOW, at=T0, half_life_days=30)
    score = p.record_event(score, p.Event.CANCELED, at=T0 + timedelta(days=30), half_life_days=30)
    assert p.penalty(score, DEFAULT, now=T0 + timedelta(days=60)) == 1.0


def test_weights_are_applied_when_reading_so_a_provider_can_change_them():
    score = p.record_event(None, p.Event.CANCELED, at=T0, half_life_days=30)
    heavy = p.Weights(enabled=True, cancellation=5.0, no_show=0.0, half_life_days=30.0)
    assert p.penalty(score, heavy, now=T0) == 5.0


def test_disabled_scoring_gives_zero():
    score = p.record_event(None, p.Event.NO_SHOW, at=T0, half_life_days=30)
    off = p.Weights(enabled=False, cancellation=1.0, no_show=2.0, half_life_days=30.0)
    assert p.penalty(score, off, now=T0) == 0.0


@pytest.mark.parametrize(
    ("seen", "verdict"),
    [
        (1, Verdict.ALLOW),
        (20, Verdict.ALLOW),
        (21, Verdict.SLOW_DOWN),
        (22, Verdict.SILENT),
        (99, Verdict.SILENT),
    ],
)
def test_only_the_first_message_over_the_limit_is_told_to_slow_down(seen, verdict):
    assert inbound_verdict(seen_in_window=seen, limit=20) is verdict


def test_a_clean_record_is_below_one_cancellation_already():
    assert p.below_one_cancellation(None, DEFAULT, now=T0) == T0


def test_the_penalty_falls_below_one_cancellation_when_it_has_halved_enough():
    # Two fresh no-shows weigh 4: two half-lives bring them to 1, and below just after.
    score = p.Score(0.0, 2.0, T0)
    moment = p.below_one_cancellation(score, DEFAULT, now=T0)
    assert moment == T0 + timedelta(days=60)


@pytest.mark.parametrize(
    ("cancellations", "no_shows", "age_days"),
    [(1.0, 0.0, 0.0), (3.0, 1.0, 5.0), (0.4, 2.5, 17.0), (7.0, 7.0, 100.0)],
)
def test_the_moment_found_is_where_the_penalty_crosses_one_cancellation(
    cancellations, no_shows, age_days
):
    now = T0 + timedelta(days=age_days)
    score = p.Score(cancellations, no_shows, T0)
    moment = p.below_one_cancellation(score, DEFAULT, now=now)
    assert moment is not None
    assert moment >= now
    hour = timedelta(hours=1)
    assert p.penalty(score, DEFAULT, now=moment - hour) >= DEFAULT.cancellation
    assert p.penalty(score, DEFAULT, now=moment + hour) < DEFAULT.cancellation


def test_a_penalty_under_one_cancellation_is_below_it_from_now():
    score = p.Score(0.5, 0.1, T0)
    assert p.below_one_cancellation(score, DEFAULT, now=T0) == T0


def test_disabled_scoring_is_below_one_cancellation_from_now():
    off = p.Weights(enabled=False, cancellation=1.0, no_show=2.0, half_life_days=30.0)
    assert p.below_one_cancellation(p.Score(9.0, 9.0, T0), off, now=T0) == T0


def test_a_penalty_never_falls_below_a_cancellation_that_weighs_nothing():
    free = p.Weights(enabled=True, cancellation=0.0, no_show=2.0, half_life_days=30.0)
    assert p.below_one_cancellation(p.Score(1.0, 1.0, T0), free, now=T0) is None
    assert p.below_one_cancellation(p.Score(1.0, 0.0, T0), free, now=T0) is None


def test_a_half_life_past_the_calendar_means_never():
    slow = p.Weights(enabled=True, cancellation=1.0, no_show=2.0, half_life_days=1e9)
    assert p.below_one_cancellation(p.Score(0.0, 5.0, T0), slow, now=T0) is None


def test_why_counts_events_until_they_fade_below_a_hundredth():
    since = p.counting_since(now=T0, half_life_days=30.0)
    assert (T0 - since).days == 199
    assert p.decay_factor(since=since, until=T0, half_life_days=30.0) == pytest.approx(0.01)


def test_a_head_over_notice_with_no_wait_left_says_any_minute_now():
    from core.rules import notice_texts

    assert "your turn is any minute now." in notice_texts.head_over(
        place_name="Zen Spa", wait_minutes=0
    )
    assert "your turn is in about 20 min." in notice_texts.head_over(
        place_name="Zen Spa", wait_minutes=20
    )
