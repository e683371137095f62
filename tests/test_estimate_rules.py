"""The learned estimator on synthetic histories: pure, no I/O."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from core.rules import service_times as st
from core.rules import stats
from core.rules.estimate import MAX_RANGED_MINUTES, Basis, Wait, basis

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
WEDNESDAY_NOON = 2 * 24 + 12


def served(called_at: datetime, minutes: float) -> stats.Record:
    return stats.Record(
        day=called_at.date(),
        status=stats.SERVED,
        booked_at=called_at - timedelta(minutes=30),
        called_at=called_at,
        closed_at=called_at + timedelta(minutes=minutes),
    )


def steady_shop(minutes: list[float], *, days: int = 10) -> list[stats.Record]:
    """Services cycling through `minutes`, one an hour from 9:00 to 16:00 on each of
    the last `days` days."""
    records = []
    i = 0
    for back in range(1, days + 1):
        for hour in range(9, 17):
            start = (NOW - timedelta(days=back)).replace(hour=hour)
            records.append(served(start, minutes[i % len(minutes)]))
            i += 1
    return records


def test_a_steady_shop_quotes_the_median_with_the_quartiles_as_its_range():
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    assert profile is not None
    assert (profile.overall.p25, profile.overall.p50, profile.overall.p75) == (15, 20, 25)
    wait = Basis(profile=profile).wait(ahead=3, booked_minutes=90)
    assert wait == Wait(60, (45, 75))


def test_one_ahead_in_a_steady_shop_reads_15_to_25_min():
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    assert Basis(profile=profile).wait(ahead=1, booked_minutes=30) == Wait(20, (15, 25))


def test_a_slow_afternoon_with_enough_services_quotes_its_own_hour():
    # Every Wednesday 14:00 for 4 weeks: 24 slow services in that hour, 40-60 min.
    history = steady_shop([10], days=28)
    wednesdays = [NOW - timedelta(days=7 * w) for w in range(1, 5)]
    for day in wednesdays:
        for i in range(6):
            history.append(served(day.replace(hour=14, minute=i * 5), [40, 50, 60][i % 3]))
    profile = st.profile(history, timezone="UTC", now=NOW)
    assert profile is not None
    afternoon = 2 * 24 + 14
    assert afternoon in profile.hours
    assert profile.hours[afternoon].p50 == 50
    slow = Basis(profile=profile, hour_of_week=afternoon).wait(ahead=2, booked_minutes=60)
    quick = Basis(profile=profile, hour_of_week=WEDNESDAY_NOON).wait(ahead=2, booked_minutes=60)
    assert slow.minutes == 100
    assert quick.minutes == 20
    assert slow.range == (80, 120)


def test_an_hour_with_fewer_than_twenty_services_falls_back_to_the_whole_window():
    history = steady_shop([20], days=28)
    for i in range(st.MIN_HOUR_SERVICES - 1):
        history.append(served((NOW - timedelta(days=1)).replace(hour=20, minute=i), 90))
    profile = st.profile(history, timezone="UTC", now=NOW)
    assert profile is not None
    tuesday_evening = 1 * 24 + 20
    assert tuesday_evening not in profile.hours
    assert profile.at(tuesday_evening) == profile.overall


def test_a_new_shop_with_no_history_quotes_the_booked_durations_without_a_range():
    assert st.profile([], timezone="UTC", now=NOW) is None
    wait = Basis(profile=None, chairs=1).wait(ahead=3, booked_minutes=75)
    assert wait == Wait(75)


def test_chairs_divide_the_learned_wait_and_its_range():
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    assert Basis(profile=profile, chairs=2).wait(ahead=4, booked_minutes=120) == Wait(
        40, (30, 50)
    )
    assert Basis(profile=None, chairs=3).wait(ahead=3, booked_minutes=90) == Wait(30)


def test_services_older_than_the_window_are_left_out():
    # Done just before the window opens.
    old = [served(NOW - timedelta(days=st.WINDOW_DAYS, minutes=201), 200)] * 50
    recent = steady_shop([20], days=2)
    profile = st.profile([*old, *recent], timezone="UTC", now=NOW)
    assert profile is not None
    assert profile.overall.n == len(recent)
    assert profile.overall.p50 == 20
    assert st.profile(old, timezone="UTC", now=NOW) is None


def test_only_completed_services_with_a_call_are_measured():
    called = NOW - timedelta(hours=3)
    no_show = stats.Record(
        day=called.date(), status=stats.NO_SHOW, booked_at=called, called_at=called,
        closed_at=called + timedelta(minutes=99),
    )
    never_called = stats.Record(
        day=called.date(), status=stats.SERVED, booked_at=called, closed_at=called
    )
    profile = st.profile([no_show, never_called, served(called, 12)], timezone="UTC", now=NOW)
    assert profile is not None
    assert profile.overall == st.Spread(1, 12, 12, 12)


def test_the_hour_of_the_week_is_the_providers_local_one():
    # 23:30 UTC on a Tuesday is 08:30 on Wednesday in Tokyo.
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert st.hour_of_week(moment, "UTC") == 1 * 24 + 23
    assert st.hour_of_week(moment, "Asia/Tokyo") == 2 * 24 + 8


def test_equal_range_ends_show_one_number_and_nobody_ahead_is_no_wait():
    profile = st.profile(steady_shop([20]), timezone="UTC", now=NOW)
    assert Basis(profile=profile).wait(ahead=2, booked_minutes=60) == Wait(40)
    assert Basis(profile=profile).wait(ahead=0, booked_minutes=0) == Wait(0)


def test_the_delay_is_added_to_every_figure():
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    assert Basis(profile=profile, delay=10).wait(ahead=1, booked_minutes=30) == Wait(30, (25, 35))
    assert Basis(delay=10).wait(ahead=1, booked_minutes=30) == Wait(40)


def test_range_ends_from_ten_minutes_are_rounded_to_five():
    profile = st.Profile(st.Spread(40, 11.0, 13.0, 17.0))
    assert Basis(profile=profile).wait(ahead=1, booked_minutes=30) == Wait(13, (10, 15))
    small = st.Profile(st.Spread(40, 2.2, 3.0, 4.6))
    assert Basis(profile=small).wait(ahead=1, booked_minutes=30) == Wait(3, (2, 5))


def test_a_wait_of_half_a_day_or_more_is_quoted_as_one_number():
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    ahead = MAX_RANGED_MINUTES // 25 + 1
    wait = Basis(profile=profile).wait(ahead=ahead, booked_minutes=0)
    assert wait.range is None
    assert wait.minutes == ahead * 20


@pytest.mark.parametrize(
    ("day", "hour"), [(date(2026, 12, 2), WEDNESDAY_NOON), (date(2026, 12, 3), None)]
)
def test_only_todays_line_is_reckoned_by_the_hour_and_only_the_delays_day_has_it(day, hour):
    profile = st.profile(steady_shop([15, 20, 25]), timezone="UTC", now=NOW)
    found = basis(
        day=day, now=NOW, timezone="UTC", chairs=2, profile=profile,
        delay_day=date(2026, 12, 2), delay_minutes=15,
    )
    assert found.hour_of_week == hour
    # Without a profile nothing reads the hour, so none is worked out.
    plain = basis(
        day=day, now=NOW, timezone="UTC", chairs=2, profile=None,
        delay_day=date(2026, 12, 2), delay_minutes=15,
    )
    assert plain.hour_of_week is None
    assert plain.delay == found.delay
    assert found.delay == (15 if hour is not None else 0)
    assert found.chairs == 2


def test_a_profile_survives_its_stored_form():
    history = steady_shop([15, 20, 25])
    history += [served((NOW - timedelta(days=7)).replace(hour=14, minute=i), 41) for i in range(20)]
    profile = st.profile(history, timezone="UTC", now=NOW)
    assert profile is not None
    assert list(profile.hours) == [2 * 24 + 14]
    stored = st.to_json(profile)
    assert st.from_json(stored) == profile
    assert st.from_json(json.dumps(stored)) == profile
    assert st.from_json(None) is None
