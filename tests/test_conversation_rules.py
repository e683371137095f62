"""The conversation's pure rules: commands, days, names, SMS sizing, positions, backoff."""

from __future__ import annotations

from datetime import date

import pytest

from core.rules import day_words as dw
from core.rules.backoff import retry_delay
from core.rules.commands import Parsed, choice_number, distance, parse, read_as, target
from core.rules.gsm import fits_one_segment, is_gsm7, segments, to_gsm7
from core.rules.names import clean_name, short_name
from core.rules.vocabulary import Command, Role

C, P = Role.CUSTOMER, Role.PROVIDER

# --- commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("JOIN", Command.JOIN, ()),
        ("join", Command.JOIN, ()),
        ("  Join   SPA  ", Command.JOIN, ("SPA",)),
        ("book zen spa tomorrow", Command.JOIN, ("zen", "spa", "tomorrow")),
        ("Hi! Can I book at Zen Spa, please?", Command.JOIN, ("Zen", "Spa")),
        ("jion spa", Command.JOIN, ("spa",)),
        ("sign up for spa", Command.JOIN, ("spa",)),
        ("get in line at spa 24/12", Command.JOIN, ("spa", "24/12")),
        ("STATUS", Command.STATUS, ()),
        ("where am I?", Command.STATUS, ()),
        ("?", Command.STATUS, ()),
        ("??", Command.STATUS, ()),
        ("position please", Command.STATUS, ()),
        ("stauts", Command.STATUS, ()),
        ("statsu", Command.STATUS, ()),
        ("how long?", Command.STATUS, ()),
        ("LEAVE", Command.LEAVE, ()),
        ("leav", Command.LEAVE, ()),
        ("cancel", Command.LEAVE, ()),
        ("drop", Command.LEAVE, ()),
        ("I can't make it", Command.LEAVE, ()),
        ("I can’t make it, sorry", Command.LEAVE, ()),
        ("cannot make it today", Command.LEAVE, ("today",)),
        ("leave 2", Command.LEAVE, ("2",)),
        ("help", Command.HELP, ()),
        ("hlep", Command.HELP, ()),
        ("HELP!", Command.HELP, ()),
        ("thanks, help please", Command.HELP, ()),
    ],
)
def test_customers_are_understood_despite_case_fillers_synonyms_and_typos(text, command, args):
    parsed = parse(text, role=C)
    assert parsed.command is command
    assert parsed.args == args


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("QUEUE", Command.QUEUE, ()),
        ("queue tomorrow", Command.QUEUE, ("tomorrow",)),
        ("qeueu", None, ()),  # two edits in a five-letter word: too far to guess
        ("queu", Command.QUEUE, ()),
        ("status", Command.QUEUE, ()),
        ("?", Command.QUEUE, ()),
        ("next", Command.NEXT, ()),
        ("NEXT please", Command.NEXT, ()),
        ("nxet", Command.NEXT, ()),
        ("done", Command.DONE, ()),
        ("DONE 3", Command.DONE, ("3",)),
        ("done #12", Command.DONE, ("#12",)),
        ("noshow", Command.NOSHOW, ()),
        ("no show 2", Command.NOSHOW, ("2",)),
        ("no-show #7", Command.NOSHOW, ("#7",)),
        ("NOSHWO", Command.NOSHOW, ()),
        ("add +1 (415) 555-0101 Ann Bell", Command.ADD, ("Ann", "Bell")),
        ("walk-in +14155550101", Command.ADD, ()),
    ],
)
def test_providers_have_their_own_commands(text, command, args):
    parsed = parse(text, role=P)
    assert parsed.command is command
    if command is not None:
        assert parsed.args == args


def test_a_phone_number_in_the_text_is_found_and_normalised():
    assert parse("add +1 (415) 555-0101 Ann", role=P).phone == "+14155550101"
    assert parse("join +44 20 7946 0958", role=C).phone == "+442079460958"
    assert parse("join spa", role=C).phone is None


def test_a_phone_typed_in_fullwidth_digits_in_chat_is_the_same_phone():
    parsed = parse("add ＋１ ４１５ ５５５ ０１０１ Ann", role=P)
    assert parsed.phone == "+14155550101"
    assert parsed.args == ("Ann",)


def test_digits_of_other_scripts_are_not_read_as_a_phone_in_chat():
    assert parse("add +١٤١٥٥٥٥٠١٠١ Ann", role=P).phone is None


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop.", "stop please", "UNSUBSCRIBE", "quit", "End", "optout",
             "opt out", "STOPALL", "revoke"],
)
def test_opt_out_words_alone_opt_out(text):
    assert parse(text, role=C).command is Command.STOP
    assert parse(text, role=P).command is Command.STOP


@pytest.mark.parametrize("text", ["START", "start", "unstop", "opt in", "subscribe"])
def test_opt_in_words_alone_opt_back_in(text):
    assert parse(text, role=C).command is Command.START


@pytest.mark.parametrize(
    "text", ["what time does it end", "shop", "step", "stp", "don't stop me now", "starts"],
)
def test_opt_out_never_comes_from_a_typo_or_a_word_inside_a_sentence(text):
    assert parse(text, role=C).command not in {Command.STOP, Command.START}


def test_cancel_means_leave_not_opt_out():
    assert parse("CANCEL", role=C).command is Command.LEAVE


@pytest.mark.parametrize(
    "text", ["xyzzy", "", "   ", "1", "Jon", "lol what", "stattt", "lea", "nexxxt", "..."]
)
def test_unknown_text_suggests_the_main_commands_in_one_fixed_order(text):
    customer, provider = parse(text, role=C), parse(text, role=P)
    assert customer.command is None
    assert customer.hints == (Command.JOIN, Command.STATUS, Command.LEAVE)
    if provider.command is None:
        assert provider.hints == (Command.QUEUE, Command.NEXT, Command.DONE)


@pytest.mark.parametrize(
    "text",
    ["hi", "Hello", "hey there", "thanks!", "Thank you so much", "thx", "good morning",
     "ok thanks", "👍", "🙂🙂", "❤️", "hi 👋"],
)
def test_a_message_of_greetings_thanks_or_emoji_alone_is_a_greeting(text):
    assert parse(text, role=C).command is Command.GREET
    assert parse(text, role=P).command is Command.GREET


@pytest.mark.parametrize(
    ("text", "command"),
    [("hi, join spa please", Command.JOIN), ("thanks, status?", Command.STATUS),
     ("👍 leave", Command.LEAVE), ("hi +14155550101", None)],
)
def test_a_greeting_around_a_command_is_the_command(text, command):
    assert parse(text, role=C).command is command


@pytest.mark.parametrize(
    "text",
    ["am I next?", "Am i next", "when is my turn", "When's my turn?", "is it my turn yet",
     "how many ahead", "how many people ahead of me?", "am I up?"],
)
def test_asking_about_ones_turn_is_status(text):
    assert parse(text, role=C).command is Command.STATUS


@pytest.mark.parametrize(
    "text",
    ["STOP texting me", "please stop sending me messages", "how do I unsubscribe",
     "can you stop the texts"],
)
def test_stopping_mentioned_in_a_sentence_asks_how_to_stop_and_opts_nobody_out(text):
    assert parse(text, role=C).command is Command.HOW_TO_STOP
    assert parse(text, role=P).command is Command.HOW_TO_STOP


def test_short_words_are_not_guessed_at():
    # "Jon" is one edit from "join", but a three-letter word is too short to trust.
    assert parse("Jon", role=C).command is None


def test_typo_correction_is_flagged_as_inexact():
    assert parse("join", role=C).exact
    assert not parse("jion", role=C).exact


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("join", "join", 0),
        ("join", "jion", 1),  # a swap of neighbours is one edit
        ("status", "stauts", 1),
        ("", "abc", 3),
        ("leave", "leav", 1),
        ("kitten", "sitting", 3),
        # Optimal string alignment, not full Damerau-Levenshtein: no edit of a swapped
        # pair (that distance would be 2).
        ("ca", "abc", 3),
        ("noshow", "nohsow", 1),
        ("🙂a", "a🙂", 1),
    ],
)
def test_typos_are_counted_in_optimal_string_alignment_edits(a, b, edits):
    assert distance(a, b) == edits
    assert distance(b, a) == edits


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), ("#2", 2), (" 2. ", 2), ("number 3 please", 3), ("option 1", 1),
     ("two", None), ("2 3", None), ("", None), ("1234", None)],
)
def test_answers_to_numbered_questions(text, number):
    assert choice_number(text) == number


def test_opt_out_words_are_still_opt_outs_alone_and_never_greetings():
    assert parse("stop", role=C).command is Command.STOP
    assert parse("yes", role=C).command is not Command.GREET


def test_a_provider_names_a_position_or_an_appointment_id():
    assert target(("3",)) == target(("3", "please"))
    assert target(("3",)).position == 3
    assert target(("#12",)).appointment_id == 12
    assert target(()) is None
    assert target(("²",)) is None


# --- days -----------------------------------------------------------------------------

WED = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("today", WED),
        ("tonight", WED),
        ("tomorrow", date(2026, 11, 26)),
        ("tmrw", date(2026, 11, 26)),
        ("wed", WED),
        ("wednesday", WED),
        ("next wednesday", date(2026, 12, 2)),
        ("fri", date(2026, 11, 27)),
        ("next friday", date(2026, 11, 27)),
        ("mon", date(2026, 11, 30)),
        ("2026-12-24", date(2026, 12, 24)),
        ("24/12", date(2026, 12, 24)),
        ("24.12", date(2026, 12, 24)),
        ("1/1", date(2027, 1, 1)),
        ("25/11", WED),
        ("24/11", date(2027, 11, 24)),
        ("24/12/2026", date(2026, 12, 24)),
        ("24/12/26", date(2026, 12, 24)),
        ("29/02", date(2028, 2, 29)),
        ("2026-11-01", date(2026, 11, 1)),
    ],
)
def test_days_people_text_resolve_from_the_providers_today(words, expected):
    found = dw.find_day(words.split())
    assert found.day is not None
    assert dw.resolve_day(found.day, today=WED, order=dw.DateOrder.DAY_FIRST) == expected


@pytest.mark.parametrize("words", ["31/02", "2026-13-01", "00/10", "32/1", "30/02/2027"])
def test_impossible_calendar_days_are_refused(words):
    found = dw.find_day([words])
    assert found.day is not None
    with pytest.raises(dw.BadDay):
        dw.resolve_day(found.day, today=WED, order=dw.DateOrder.DAY_FIRST)


def test_the_day_is_taken_out_of_the_words_and_the_rest_kept_in_order():
    found = dw.find_day(["zen", "spa", "next", "fri", "please"])
    assert found.day == dw.DayWords("next fri")
    assert found.rest == ("zen", "spa", "please")
    assert dw.find_day(["zen", "spa"]) == dw.Found(None, ("zen", "spa"))


def test_no_day_means_today():
    assert dw.day_or_today(None, today=WED, order=dw.DateOrder.DAY_FIRST) == WED


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ann Bell", "Ann Bell"),
        ("  ann   bell ", "Ann Bell"),
        ("ANN BELL", "Ann Bell"),
        ("my name is Ann", "Ann"),
        ("Hi, I'm Ann Bell", "Ann Bell"),
        ("it's José Núñez", "José Núñez"),
        ("Ann McDonald", "Ann McDonald"),
        ("Ann 🙂", "Ann"),
        ("O'Brien", "O'Brien"),
        ("x" * 80, "X" + "x" * 59),
    ],
)
def test_names_are_read_from_a_reply(text, name):
    assert clean_name(text) == name


@pytest.mark.parametrize("text", ["", "  ", "123", "+14155550101", "🙂🙂", "hi", "ok thanks", "?"])
def test_replies_that_are_not_names_are_refused(text):
    assert clean_name(text) is None


def test_a_provider_sees_first_name_and_last_initial():
    assert short_name("Ann Marie Bell") == "Ann B."
    assert short_name("Cher") == "Cher"
    assert short_name("") == "?"


# --- SMS sizing -----------------------------------------------------------------------


def test_gsm7_segments():
    assert segments("") == 1
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    # Extension characters take two septets each.
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2


def test_one_character_outside_gsm7_switches_to_ucs2():
    assert segments("a" * 69 + "’") == 1
    assert segments("a" * 70 + "’") == 2
    assert segments("a" * 133 + "’") == 2
    assert segments("a" * 134 + "’") == 3
    # An emoji is two UTF-16 code units.
    assert segments("🙂" * 35) == 1
    assert segments("🙂" * 36) == 2


def test_text_is_made_gsm7_safe_without_losing_what_gsm7_can_say():
    assert to_gsm7("Zoë’s “Spa” – café…") == "Zoe's \"Spa\" - café..."
    assert to_gsm7("Łódź 🙂") == "Lodz "
    assert to_gsm7("Ñandú") == "Ñandu"
    assert is_gsm7(to_gsm7("Ωmega 北京 ĉ"))


def test_fits_one_segment_means_gsm7_and_at_most_160_septets():
    assert fits_one_segment("a" * 160)
    assert not fits_one_segment("a" * 161)
    assert not fits_one_segment("’")


# --- positions and retries ------------------------------------------------------------


def test_retries_back_off_exponentially_up_to_a_cap_but_honour_retry_after():
    assert [retry_delay(attempts=n, retry_after=None) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay(attempts=30, retry_after=None) == 900
    assert retry_delay(attempts=1, retry_after=42) == 42
    assert retry_delay(attempts=5, retry_after=2) == 16


def _both(text: str, *, provider: bool) -> tuple[Parsed, Parsed | None]:
    """The text parsed as the customer and, for a provider's phone, as the provider."""
    return parse(text, role=C), parse(text, role=P) if provider else None


@pytest.mark.parametrize(
    ("text", "role", "command"),
    [
        ("queue", Role.PROVIDER, Command.QUEUE),
        ("status", Role.PROVIDER, Command.QUEUE),  # the provider's word for QUEUE
        ("next", Role.PROVIDER, Command.NEXT),
        ("help", Role.PROVIDER, Command.HELP),
        ("add +14155550101 Ann", Role.PROVIDER, Command.ADD),
        ("join spa", Role.CUSTOMER, Command.JOIN),
        ("book tomorrow", Role.CUSTOMER, Command.JOIN),
        ("jion spa", Role.CUSTOMER, Command.JOIN),
        ("leave", Role.CUSTOMER, Command.LEAVE),
        ("I can't make it", Role.CUSTOMER, Command.LEAVE),
        ("position", Role.CUSTOMER, Command.STATUS),
        ("xyzzy", Role.PROVIDER, None),
    ],
)
def test_a_phone_that_is_both_texts_provider_commands_first(text, role, command):
    got_role, parsed = read_as(*_both(text, provider=True), customer=True, in_dialogue=False)
    assert (got_role, parsed.command) == (role, command)


def test_a_phone_that_is_both_answers_its_open_dialogue_as_the_customer():
    def role(text: str, *, in_dialogue: bool) -> Role:
        return read_as(*_both(text, provider=True), customer=True, in_dialogue=in_dialogue)[0]

    assert role("2", in_dialogue=True) is Role.CUSTOMER
    assert role("2", in_dialogue=False) is Role.PROVIDER
    assert role("queue", in_dialogue=True) is Role.PROVIDER


def test_a_provider_that_is_not_a_customer_texts_only_as_the_provider():
    provider = read_as(*_both("join spa", provider=True), customer=False, in_dialogue=False)
    assert provider[0] is Role.PROVIDER
    customer = read_as(*_both("join spa", provider=False), customer=True, in_dialogue=False)
    assert customer[0] is Role.CUSTOMER
