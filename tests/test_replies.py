"""Every reply fits one SMS segment, even with the longest, most exotic names."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from bot import provider_replies as pr
from bot import replies as r
from bot import spot_replies as sr
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment, segments
from core.rules.message_stats import MessageFigures
from core.rules.queue_spot import Spot
from core.rules.stats import Figures
from core.rules.vocabulary import Command

LONG_PLACE = "Zoë’s “Extra-Ordinary” Hair & Nail Studio 💇 of Greater Łódź" * 3
LONG_PERSON = "Maximiliana-Josefina Ölçüm-Ŝtraße 🙂 de la Vega y Fernández"
PHONE = "+12345678901234567"
BIG = Spot(position=999, ahead=998, wait_minutes=99_999)
# A learned range is longer than one number: its widest ends (core.rules.estimate
# quotes one number from half a day on).
BIG_RANGE = Spot(position=999, ahead=998, wait_minutes=712, wait_range=(715, 715 + 4))
# A ticket number (board_names "ticket") far past any day's count.
BIG_TICKET = replace(BIG, ticket=99_999)
# The longest label: a day in another year carries the year.
LONG_DAY = r.day_label(date(2027, 12, 29), today=date(2026, 11, 25))
ENTRY = pr.QueueEntry(LONG_PERSON, PHONE, 99_999)
HUGE_FIGURES = Figures(
    served=10**6,
    cancellations=10**6,
    no_shows=10**6,
    no_show_rate=0.5,
    median_wait=99_999.5,
    p90_wait=99_999.5,
    median_service=99_999.5,
    estimate_error=99_999.5,
)
EMPTY_FIGURES = Figures(0, 0, 0, None, None, None, None, None)

CORE_REPLIES = {
    "ask_name": r.ask_name(),
    "ask_name_again": r.ask_name_again(),
    "welcome": r.welcome(LONG_PERSON),
    "joined": r.joined(place_name=LONG_PLACE, day=LONG_DAY, spot=BIG),
    "already_booked": r.already_booked(place_name=LONG_PLACE, day=LONG_DAY, spot=BIG),
    "already_booked_called": r.already_booked(place_name=LONG_PLACE, day=LONG_DAY, spot=None),
    "joined_no_set_times": r.joined(
        place_name=LONG_PLACE, day=LONG_DAY, spot=BIG, no_set_times=True
    ),
    "joined_ticket": r.joined(place_name=LONG_PLACE, day=LONG_DAY, spot=BIG_TICKET),
    "joined_no_set_times_ticket": r.joined(
        place_name=LONG_PLACE, day=LONG_DAY, spot=BIG_TICKET, no_set_times=True
    ),
    "joined_range_ticket": r.joined(
        place_name=LONG_PLACE, day=LONG_DAY, spot=replace(BIG_RANGE, ticket=99_999)
    ),
    "added_ticket": pr.added(name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG_TICKET),
    "added_past_limits_ticket": pr.added_past_limits(
        name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG_TICKET
    ),
    "day_passed": r.day_passed(),
    "too_far_ahead": r.too_far_ahead(days=3650, last=LONG_DAY),
    "bad_day": r.bad_day(),
    "no_places": r.no_places(),
    "choose_place_few": r.choose_place(
        [r.PlaceOption(LONG_PLACE, "ABCDEFGHIJKLMNOP")] * 2, unknown=LONG_PERSON
    ),
    "choose_place_many": r.choose_place([r.PlaceOption(LONG_PLACE, "SPA")] * 9),
    "place_not_found": r.place_not_found(LONG_PLACE),
    "status_one": r.status([r.Standing(LONG_PLACE, LONG_DAY, BIG)]),
    "status_one_range": r.status([r.Standing(LONG_PLACE, LONG_DAY, BIG_RANGE)]),
    "status_many_range": r.status([r.Standing(LONG_PLACE, LONG_DAY, BIG_RANGE)] * 12),
    "joined_range": r.joined(place_name=LONG_PLACE, day=LONG_DAY, spot=BIG_RANGE),
    "joined_no_set_times_range": r.joined(
        place_name=LONG_PLACE, day=LONG_DAY, spot=BIG_RANGE, no_set_times=True
    ),
    "already_booked_range": r.already_booked(place_name=LONG_PLACE, day=LONG_DAY, spot=BIG_RANGE),
    "added_range": pr.added(name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG_RANGE),
    "added_past_limits_range": pr.added_past_limits(
        name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG_RANGE
    ),
    "moved_back_range": sr.moved_back(place_name=LONG_PLACE, spot=BIG_RANGE),
    "kept_place_range": sr.kept_place(place_name=LONG_PLACE, spot=BIG_RANGE),
    "late_limit_range": sr.late_limit(place_name=LONG_PLACE, spot=BIG_RANGE),
    "away_noted_range": sr.away_noted(place_name=LONG_PLACE, spot=BIG_RANGE, travel_minutes=240),
    "away_go_now_range": sr.away_go_now(place_name=LONG_PLACE, spot=BIG_RANGE),
    "not_called_yet_range": sr.not_called_yet([r.Standing(LONG_PLACE, LONG_DAY, BIG_RANGE)]),
    "choose_standing_range": r.choose_standing(
        [r.Standing(LONG_PLACE, LONG_DAY, BIG_RANGE)] * 12
    ),
    "status_called": r.status([r.Standing(LONG_PLACE, LONG_DAY, None)]),
    "status_many": r.status([r.Standing(LONG_PLACE, LONG_DAY, BIG)] * 12),
    "not_in_line": r.not_in_line(),
    "left": r.left(place_name=LONG_PLACE, day=LONG_DAY),
    "no_longer_active": r.no_longer_active(),
    "choose_standing": r.choose_standing([r.Standing(LONG_PLACE, LONG_DAY, BIG)] * 12),
    "bad_choice": r.bad_choice(999),
    "help_sms": r.help_customer(cancel_opts_out=True),
    "help_other": r.help_customer(cancel_opts_out=False),
    "stopped": r.stopped(),
    "started": r.started(),
    "not_understood": r.not_understood([Command.NOSHOW, Command.STATUS, Command.LEAVE]),
    "not_understood_none": r.not_understood([]),
    "sorry": r.sorry(),
    "your_turn": r.your_turn(place_name=LONG_PLACE),
    "you_are_next": r.you_are_next(place_name=LONG_PLACE),
    "up_soon": r.up_soon(place_name=LONG_PLACE),
    "help_provider": pr.help_provider(),
    "help_provider_more": pr.help_provider_more(),
    "called": pr.called(name=LONG_PERSON, phone=PHONE, waiting=999),
    "nobody_waiting": pr.nobody_waiting(),
    "closed_done": pr.closed(command=Command.DONE, name=LONG_PERSON, phone=PHONE, waiting=999),
    "closed_noshow": pr.closed(command=Command.NOSHOW, name=LONG_PERSON, phone=PHONE, waiting=9),
    "nobody_called": pr.nobody_called(),
    "no_such_position": pr.no_such_position(9999),
    "no_such_appointment": pr.no_such_appointment(10**9),
    "too_early_to_close": pr.too_early_to_close(appointment_id=2**31 - 1, day=LONG_DAY),
    "no_such_position_typed_huge": pr.no_such_position(10**999),
    "no_such_appointment_typed_huge": pr.no_such_appointment(10**999),
    "greeting_customer": r.greeting_customer(),
    "greeting_provider": pr.greeting_provider(),
    "how_to_stop": r.how_to_stop(),
    "add_usage": pr.add_usage(),
    "added": pr.added(name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG),
    "add_already": pr.add_already(name=LONG_PERSON, phone=PHONE, day=LONG_DAY),
    "added_past_limits": pr.added_past_limits(
        name=LONG_PERSON, phone=PHONE, day=LONG_DAY, spot=BIG
    ),
    "no_room_full": r.no_room(place_name=LONG_PLACE, closed=False, next_day=LONG_DAY),
    "no_room_closed": r.no_room(place_name=LONG_PLACE, closed=True, next_day=LONG_DAY),
    "no_room_anywhere": r.no_room(place_name=LONG_PLACE, closed=False, next_day=None),
    "closed_for_today": pr.closed_for_today(waiting=99_999),
    "opened_for_today": pr.opened_for_today(was_closed=True),
    "opened_already": pr.opened_for_today(was_closed=False),
    "coming_confirmed": sr.coming_confirmed(place_name=LONG_PLACE),
    "not_called_yet_one": sr.not_called_yet([r.Standing(LONG_PLACE, LONG_DAY, BIG)]),
    "not_called_yet_many": sr.not_called_yet([r.Standing(LONG_PLACE, LONG_DAY, BIG)] * 12),
    "why_clean": sr.why_clean(place_name=LONG_PLACE),
    "why_below_on_a_day": sr.why(
        place_name=LONG_PLACE,
        cancellations=99_999,
        no_shows=99_999,
        weight=123_456.789,
        cancellation_weight=1_000_000.5,
        half_life_days=36_500.25,
        below=LONG_DAY,
    ),
    "why_already_below": sr.why(
        place_name=LONG_PLACE,
        cancellations=1,
        no_shows=1,
        weight=0.001,
        cancellation_weight=1,
        half_life_days=30,
        below="already",
    ),
    "coming_notice": r.coming(name=LONG_PERSON, phone=PHONE),
    "moved_back": sr.moved_back(place_name=LONG_PLACE, spot=BIG),
    "kept_place": sr.kept_place(place_name=LONG_PLACE, spot=BIG),
    "late_limit": sr.late_limit(place_name=LONG_PLACE, spot=BIG),
    "late_when_called": sr.late_when_called(place_name=LONG_PLACE),
    "late_held": sr.late_held(place_name=LONG_PLACE, until="23:59"),
    "late_held_once": sr.late_held_once(place_name=LONG_PLACE),
    "grace_reminder_notice": notice_texts.grace_reminder(place_name=LONG_PLACE),
    "grace_closed_notice": notice_texts.grace_closed(place_name=LONG_PLACE, minutes="239.99"),
    "grace_no_show_notice": notice_texts.grace_no_show(
        name=LONG_PERSON, phone=PHONE, minutes="239.99"
    ),
    "grace_no_show_called_next_notice": notice_texts.grace_no_show_called_next(
        name=LONG_PERSON, phone=PHONE, minutes="239.99", next_name=LONG_PERSON, next_phone=PHONE
    ),
    "grace_ask_notice": notice_texts.grace_ask(name=LONG_PERSON, phone=PHONE, minutes="239.99"),
    "away_noted": sr.away_noted(place_name=LONG_PLACE, spot=BIG, travel_minutes=240),
    "away_go_now": sr.away_go_now(place_name=LONG_PLACE, spot=BIG),
    "away_how_far": sr.away_how_far(),
    "turn_reopened_notice": notice_texts.turn_reopened(place_name=LONG_PLACE),
    "head_over_notice": notice_texts.head_over(place_name=LONG_PLACE, wait_minutes=99_999),
    "running_late_notice": notice_texts.running_late(
        name=LONG_PERSON, phone=PHONE, minutes=240
    ),
    "queue_sms_coming": pr.queue(
        place_name=LONG_PLACE,
        day=LONG_DAY,
        serving=[pr.QueueEntry(LONG_PERSON, PHONE, 0, confirmed=True)] * 3,
        waiting=[ENTRY] * 50,
        budget=160,
    ),
    "stats_week": pr.stats(week=True, figures=HUGE_FIGURES),
    "stats_today_empty": pr.stats(week=False, figures=EMPTY_FIGURES),
    "stats_week_messages": pr.stats(
        week=True,
        figures=HUGE_FIGURES,
        messages=MessageFigures(
            {"sms": 10**6, "telegram": 10**6, "whatsapp": 10**6}, 10**7, Decimal(10**5)
        ),
    ),
    "stats_usage": pr.stats_usage(),
    "queue_sms": pr.queue(
        place_name=LONG_PLACE, day=LONG_DAY, serving=[ENTRY] * 3, waiting=[ENTRY] * 50, budget=160
    ),
}


@pytest.mark.parametrize("name", sorted(CORE_REPLIES))
def test_every_reply_fits_one_gsm7_segment_in_the_worst_case(name):
    text = CORE_REPLIES[name]
    assert fits_one_segment(text), (name, len(text), text)
    assert segments(text) == 1


@pytest.mark.parametrize("name", sorted(CORE_REPLIES))
def test_no_reply_has_curly_quotes_emoji_or_a_blank(name):
    text = CORE_REPLIES[name]
    assert text
    assert text.strip() == text
    assert not set(text) & set("‘’“”…🙂💇")


def test_a_long_queue_is_summarised_with_how_many_more():
    text = CORE_REPLIES["queue_sms"]
    assert "50 waiting" in text
    assert "more." in text


def test_a_wide_channel_shows_the_whole_queue():
    entries = [pr.QueueEntry(f"Person{i} X", f"+1415555{i:04d}", i * 30) for i in range(20)]
    text = pr.queue(place_name="Spa", day="today", serving=[], waiting=entries, budget=1500)
    assert "20 Person19 X" in text
    assert "more" not in text


def test_waits_read_naturally():
    assert r.wait_phrase(0) == "no wait"
    assert r.wait_phrase(45) == "about 45 min wait"
    assert r.wait_phrase(75) == "about 1h 15m wait"


def test_a_learned_range_reads_as_its_two_ends_joined_by_a_hyphen():
    assert r.wait_phrase(20, (15, 25)) == "15-25 min wait"
    assert r.wait_phrase(0, (0, 5)) == "0-5 min wait"
    assert r.wait_phrase(70, (45, 90)) == "45m-1h 30m wait"
    assert r.wait_phrase(130, (120, 150)) == "2h 00m-2h 30m wait"
    spot = Spot(position=3, ahead=2, wait_minutes=20, wait_range=(15, 25))
    assert r.spot_phrase(spot) == "#3, 2 ahead, 15-25 min wait"


def test_days_are_named_relative_to_the_providers_today():
    today = date(2026, 11, 25)
    assert r.day_label(today, today=today) == "today"
    assert r.day_label(date(2026, 11, 26), today=today) == "tomorrow"
    assert r.day_label(date(2026, 12, 4), today=today) == "Fri 4 Dec"


def test_sms_help_warns_against_cancel():
    assert "not CANCEL" in r.help_customer(cancel_opts_out=True)
    assert "CANCEL" not in r.help_customer(cancel_opts_out=False)
