"""Everyday phrasings the engine answers in kind: hellos and thanks, "am I next?",
"stop texting me", and suggestions that always come in the same order."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import pytest

from core.models import Contact, User
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    PHONES,
    TODAY,
    booked,
    run,
    say,
    spa,
)

CUSTOMER_COMMANDS = ("JOIN", "STATUS", "LEAVE")
PROVIDER_COMMANDS = ("QUEUE", "NEXT", "DONE")


@pytest.mark.parametrize("text", ["hi", "hello", "thanks!", "Thank you so much", "👍", "🙂"])
async def test_a_customers_hello_or_thanks_gets_a_friendly_line_with_the_main_commands(
    spa, text
):
    reply = await say("ann", text)
    assert "Sorry" not in reply
    for command in CUSTOMER_COMMANDS:
        assert command in reply
    assert "\n" not in reply


@pytest.mark.parametrize("text", ["hello", "thanks", "👍"])
async def test_a_providers_hello_gets_its_own_main_commands(spa, text):
    reply = await say("spa", text)
    assert "Sorry" not in reply
    for command in PROVIDER_COMMANDS:
        assert command in reply


async def test_thanks_after_joining_changes_nothing(spa):
    await run([
        ("ann", "join", (booked("ann", "spa", TODAY),), ("#1",)),
        ("ann", "thanks!", (), ("STATUS",)),
        ("ann", "👍", (), ("LEAVE",)),
    ])


@pytest.mark.parametrize("text", ["am I next?", "when is my turn", "how many ahead"])
async def test_asking_about_ones_turn_answers_with_the_place_in_line(spa, text):
    await say("ann", "join")
    await say("bob", "join")
    reply = await say("bob", text)
    assert "#2, 1 ahead" in reply


async def test_stop_in_a_sentence_says_how_to_stop_and_does_not_opt_out(spa):
    reply = await say("ann", "STOP texting me")
    assert "STOP on its own" in reply
    contact = await Contact.get_or_none(phone=PHONES["ann"])
    assert contact is None or not contact.opted_out


async def test_asking_how_to_stop_while_asked_for_a_name_keeps_the_question_open(spa):
    await run([
        ("new", "join", (), ("What's your name?",)),
        ("new", "stop texting me", (), ("STOP on its own",)),
        ("new", "Nina Park", (booked("new", "spa", TODAY),), ("Zen Spa today",)),
    ])
    assert await User.filter(phone=PHONES["new"]).values_list("name", flat=True) == ["Nina Park"]


@pytest.mark.parametrize("text", ["stattt", "lea", "xyzzy", "what's the weather"])
async def test_suggestions_to_a_customer_always_come_as_join_status_leave(spa, text):
    assert "Try JOIN, STATUS or LEAVE." in await say("ann", text)


@pytest.mark.parametrize("text", ["nexxxt", "qxz", "xyzzy"])
async def test_suggestions_to_a_provider_always_come_as_queue_next_done(spa, text):
    assert "Try QUEUE, NEXT or DONE." in await say("spa", text)
