"""LATE and AWAY's rules, without I/O: the minutes a text gives, how far back a late
customer moves, the key between two neighbours, and when to head over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.rules import lateness
from core.rules.commands import parse, tokenize
from core.rules.lateness import Key, Placed, behind_count, head_over_due, key_between, minutes_in
from core.rules.vocabulary import Command, Role

T = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("late", None),
        ("running late", None),
        ("late 15", 15),
        ("I'll be 20 min late", 20),
        ("20 min late", 20),
        ("20min late", 20),
        ("I'm 20 min away", 20),
        ("20 minutes out", 20),
        ("AWAY 20", 20),
        ("late 0", None),
        ("late 9999", None),
    ],
)
def test_the_minutes_are_read_wherever_the_text_puts_them(text, minutes):
    assert minutes_in(tokenize(text)) == minutes


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("late", Command.LATE),
        ("running late", Command.LATE),
        ("late 15", Command.LATE),
        ("I'll be 20 min late", Command.LATE),
        ("20 min late", Command.LATE),
        ("I'm 20 min away", Command.AWAY),
        ("20 minutes out", Command.AWAY),
        ("AWAY 20", Command.AWAY),
    ],
)
def test_late_and_away_are_read_from_every_phrasing(text, command):
    assert parse(text, role=Role.CUSTOMER).command is command


def test_a_late_customer_moves_behind_everyone_served_before_they_arrive():
    # Waits of those behind, counted without the late customer.
    assert behind_count([0, 10, 20, 30], 15) == 2
    # Someone whose turn comes just as they arrive stays behind them.
    assert behind_count([0, 15, 30], 15) == 1
    assert behind_count([20, 30], 15) == 0
    assert behind_count([0, 5], 15) == 2
    assert behind_count([], 15) == 0


def _order(key: Key, id_: int) -> tuple[float, datetime, int]:
    return Placed(key, id_).order()


def test_the_new_key_lies_strictly_between_the_neighbours():
    before = Placed(Key(0.0, T), 7)
    after = Placed(Key(0.0, T + timedelta(minutes=4)), 3)
    key = key_between(before, after, me=1)
    assert (before.key.penalty, before.key.at) < (key.penalty, key.at)
    assert (key.penalty, key.at) < (after.key.penalty, after.key.at)


def test_a_key_between_different_penalties_keeps_the_lower_one():
    before = Placed(Key(0.0, T + timedelta(hours=1)), 1)
    after = Placed(Key(1.0, T), 2)
    key = key_between(before, after, me=3)
    assert key.penalty == 0.0
    assert before.order() < _order(key, 3) < after.order()


def test_at_the_end_of_the_line_the_key_is_just_after_the_last():
    key = key_between(Placed(Key(2.5, T), 9), None, me=1)
    assert key.penalty == 2.5
    assert T < key.at <= T + timedelta(milliseconds=1)


@pytest.mark.parametrize(("before_id", "me", "after_id"), [(2, 1, 3), (1, 2, 3), (1, 3, 2)])
def test_neighbours_booked_in_the_same_microsecond_leave_the_ids_to_decide(
    before_id, me, after_id
):
    before = Placed(Key(0.0, T), before_id)
    after = Placed(Key(0.0, T), after_id)
    key = key_between(before, after, me=me)
    if before_id < me < after_id:
        assert before.order() < _order(key, me) < after.order()
    else:
        # No key holds it between them when the ids order it elsewhere: it goes
        # behind both rather than ahead of the person it moves behind.
        assert _order(key, me) > after.order() > before.order()


def test_head_over_is_due_when_the_wait_falls_to_travel_plus_the_margin():
    margin = lateness.HEAD_OVER_MARGIN_MINUTES
    assert head_over_due(wait_minutes=20 + margin, travel_minutes=20)
    assert not head_over_due(wait_minutes=21 + margin, travel_minutes=20)
    assert head_over_due(wait_minutes=0, travel_minutes=20)
