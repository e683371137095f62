"""Every row of the dialogue table (bot.customer.DIALOGUE), run through the engine on a
real database: which row a text falls in, what it answers, and the question it leaves
open (as stored). The last tests check the Reply's menu and choices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot import customer, replies
from bot.customer import DIALOGUE, Heard
from bot.dialogue import State
from bot.engine import handle_message, read
from bot.reply import Choice, Menu, Reply
from core.models import Appointment, Channel, Conversation, Status
from core.services import booking, calling, conversations, service_accounts, users

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
TOMORROW = date(2026, 11, 19)
SPA, GDN = "+14155550100", "+14155550200"
ANN, NEW = "+14155550101", "+14155550105"

Row = tuple[State | None, Heard]
N, NAME, PLACE, SPOT = None, State.ASK_NAME, State.ASK_PLACE, State.ASK_SPOT
OFFER = State.OFFER_DAY
# Each row of DIALOGUE, and the test below that runs it.
ROW_TESTS: dict[Row, str] = {
    (N, Heard.COMMAND): "test_a_command_with_no_question_open_leaves_none_open",
    (NAME, Heard.MEANWHILE): "test_help_while_asked_for_a_name_is_answered_and_the_question_stays",
    (NAME, Heard.JOIN_AGAIN): "test_join_again_while_asked_for_a_name_keeps_the_fuller_request",
    (NAME, Heard.NO_NAME): "test_a_text_that_is_no_name_asks_for_the_name_again",
    (NAME, Heard.A_NAME): "test_a_name_registers_the_newcomer_and_carries_on_with_their_first_text",
    (PLACE, Heard.ON_THE_LIST): "test_a_number_on_the_list_of_places_books_there_and_closes_the_question",
    (PLACE, Heard.OFF_THE_LIST): "test_another_number_asks_which_place_again",
    (PLACE, Heard.COMMAND): "test_a_command_instead_of_a_place_closes_the_question_and_is_answered",
    (PLACE, Heard.WORDS): "test_naming_the_place_instead_of_its_number_books_there",
    (SPOT, Heard.ON_THE_LIST): "test_a_number_on_the_list_of_spots_leaves_that_one_and_closes_the_question",
    (SPOT, Heard.OFF_THE_LIST): "test_anything_but_a_number_on_the_list_asks_which_spot_again",
    (SPOT, Heard.COMMAND): "test_a_command_instead_of_a_spot_closes_the_question_and_is_answered",
    (OFFER, Heard.TAKES_OFFER): "test_yes_to_the_day_offered_after_a_refusal_books_that_day",
    (OFFER, Heard.COMMAND): "test_a_command_instead_of_yes_closes_the_offer_and_is_answered",
    (OFFER, Heard.WORDS): "test_other_words_after_an_offer_close_it_and_are_read_afresh",
}


@pytest.fixture
async def spa(orm):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)


@pytest.fixture
async def two_places(spa):
    await service_accounts.create_service_account(phone=GDN, name="Zen Garden", code="GDN")


@pytest.fixture
def rows(monkeypatch) -> list[Row]:
    """The rows of DIALOGUE the engine answers by, in order."""
    taken: list[Row] = []
    respond = customer.respond

    async def recording(turn: Any, found: customer.Step) -> Any:
        taken.append((found.state, found.heard))
        return await respond(turn, found)

    monkeypatch.setattr(customer, "respond", recording)
    return taken


async def say(phone: str, text: str, *, menus: bool = False) -> Reply:
    return await handle_message(
        channel=Channel.TELEGRAM, phone=phone, text=text, now=NOW, menus=menus
    )


async def question(phone: str) -> tuple[str, dict[str, Any]] | None:
    row = await Conversation.get_or_none(channel=Channel.TELEGRAM.value, phone=phone)
    return (row.state, row.data) if row is not None else None


async def ask(state: State, data: dict[str, Any], phone: str = ANN) -> None:
    await conversations.save(
        channel=Channel.TELEGRAM, phone=phone, state=state.value, data=data, now=NOW
    )


def took(rows: list[Row], row: Row) -> None:
    assert rows[0] == row


async def in_line(phone: str) -> list[date]:
    return list(
        await Appointment.filter(user__phone=phone, status=Status.ACTIVE)
        .order_by("day")
        .values_list("day", flat=True)
    )


async def test_a_command_with_no_question_open_leaves_none_open(spa, rows):
    reply = await say(ANN, "status")
    took(rows, (None, Heard.COMMAND))
    assert reply.text == replies.not_in_line()
    assert await question(ANN) is None


async def test_a_newcomers_first_text_opens_the_question_of_their_name(spa, rows):
    reply = await say(NEW, "join spa")
    took(rows, (None, Heard.COMMAND))
    assert reply.text == replies.ask_name()
    assert await question(NEW) == ("ask_name", {"text": "join spa", "default_provider": None})


async def test_help_while_asked_for_a_name_is_answered_and_the_question_stays(spa, rows):
    await say(NEW, "join spa")
    reply = await say(NEW, "HELP")
    took(rows[1:], (State.ASK_NAME, Heard.MEANWHILE))
    assert "JOIN" in reply.text
    assert (await question(NEW) or ("",))[0] == "ask_name"


async def test_join_again_while_asked_for_a_name_keeps_the_fuller_request(spa, rows):
    await say(NEW, "hello")
    reply = await say(NEW, "join spa tomorrow")
    took(rows[1:], (State.ASK_NAME, Heard.JOIN_AGAIN))
    assert reply.text == replies.ask_name_again()
    assert await question(NEW) == (
        "ask_name", {"text": "join spa tomorrow", "default_provider": None}
    )


async def test_a_text_that_is_no_name_asks_for_the_name_again(spa, rows):
    await say(NEW, "join spa")
    reply = await say(NEW, "12345")
    took(rows[1:], (State.ASK_NAME, Heard.NO_NAME))
    assert reply.text == replies.ask_name_again()
    assert (await question(NEW) or ("",))[0] == "ask_name"


async def test_a_name_registers_the_newcomer_and_carries_on_with_their_first_text(spa, rows):
    await say(NEW, "join spa tomorrow")
    reply = await say(NEW, "Nia Oku")
    took(rows[1:], (State.ASK_NAME, Heard.A_NAME))
    assert reply.text.startswith("You're in line at Zen Spa tomorrow")
    assert await question(NEW) is None
    assert await in_line(NEW) == [TOMORROW]


async def test_a_name_after_an_open_join_can_leave_the_question_of_the_place(two_places, rows):
    await say(NEW, "join")
    reply = await say(NEW, "Nia Oku")
    took(rows[1:], (State.ASK_NAME, Heard.A_NAME))
    assert reply.text.startswith("Which place?")
    assert (await question(NEW) or ("",))[0] == "ask_place"


async def test_a_number_on_the_list_of_places_books_there_and_closes_the_question(
    two_places, rows
):
    asked = await say(ANN, "join")
    assert (await question(ANN) or ("",))[0] == "ask_place"
    [number] = [c.text for c in asked.choices if c.label == "Zen Garden"]
    reply = await say(ANN, number)
    took(rows[1:], (State.ASK_PLACE, Heard.ON_THE_LIST))
    assert reply.text.startswith("You're in line at Zen Garden today")
    assert await question(ANN) is None


async def test_another_number_asks_which_place_again(two_places, rows):
    await say(ANN, "join")
    before = await question(ANN)
    reply = await say(ANN, "7")
    took(rows[1:], (State.ASK_PLACE, Heard.OFF_THE_LIST))
    assert reply.text == replies.bad_choice(2)
    assert await question(ANN) == before


async def test_a_command_instead_of_a_place_closes_the_question_and_is_answered(
    two_places, rows
):
    await say(ANN, "join")
    reply = await say(ANN, "status")
    took(rows[1:], (State.ASK_PLACE, Heard.COMMAND))
    assert reply.text == replies.not_in_line()
    assert await question(ANN) is None


async def test_naming_the_place_instead_of_its_number_books_there(two_places, rows):
    await say(ANN, "join tomorrow")
    reply = await say(ANN, "zen garden")
    took(rows[1:], (State.ASK_PLACE, Heard.WORDS))
    assert reply.text.startswith("You're in line at Zen Garden tomorrow")
    assert await question(ANN) is None
    assert await in_line(ANN) == [TOMORROW]


async def _two_spots() -> None:
    for day in (TODAY, TOMORROW):
        await booking.book(
            user_phone=ANN, service_account_phone=SPA, appointment_date=day, now=NOW
        )


async def test_a_number_on_the_list_of_spots_leaves_that_one_and_closes_the_question(
    spa, rows
):
    await _two_spots()
    asked = await say(ANN, "leave")
    assert (await question(ANN) or ("",))[0] == "ask_spot"
    assert [c.label for c in asked.choices] == ["Zen Spa today", "Zen Spa tomorrow"]
    reply = await say(ANN, "2")
    took(rows[1:], (State.ASK_SPOT, Heard.ON_THE_LIST))
    assert reply.text.startswith("You've left the line at Zen Spa tomorrow")
    assert await question(ANN) is None
    assert await in_line(ANN) == [TODAY]


async def test_anything_but_a_number_on_the_list_asks_which_spot_again(spa, rows):
    await _two_spots()
    await say(ANN, "leave")
    before = await question(ANN)
    reply = await say(ANN, "the blue one")
    took(rows[1:], (State.ASK_SPOT, Heard.OFF_THE_LIST))
    assert reply.text == replies.bad_choice(2)
    assert await question(ANN) == before
    assert await in_line(ANN) == [TODAY, TOMORROW]


async def test_a_command_instead_of_a_spot_closes_the_question_and_is_answered(spa, rows):
    await _two_spots()
    await say(ANN, "leave")
    reply = await say(ANN, "help")
    took(rows[1:], (State.ASK_SPOT, Heard.COMMAND))
    assert "JOIN" in reply.text
    assert await question(ANN) is None


async def test_a_question_this_engine_does_not_know_closes_and_the_text_is_read_afresh(
    spa, rows
):
    await ask(State.ASK_NAME, {})
    await Conversation.filter(phone=ANN).update(state="ask_colour")
    reply = await say(ANN, "status")
    assert rows == [(None, Heard.COMMAND)]
    assert reply.text == replies.not_in_line()
    assert await question(ANN) is None


@pytest.fixture
async def full_today(spa):
    """The spa takes one person waiting at a time, and Bo waits today."""
    await service_accounts.update_service_account(phone=SPA, changes={"max_waiting": 1})
    await users.create_user(name="Bo Chan", phone="+14155550109")
    await say("+14155550109", "join spa")


async def test_yes_to_the_day_offered_after_a_refusal_books_that_day(full_today, rows):
    refused = await say(ANN, "join spa")
    assert refused.text == replies.no_room(
        place_name="Zen Spa", closed=False, next_day="tomorrow"
    )
    assert refused.choices == (Choice("Join tomorrow", "1"),)
    stored = await question(ANN)
    assert stored is not None
    assert stored[0] == "offer_day"
    assert await in_line(ANN) == []

    reply = await say(ANN, "yes please")
    took(rows[1:], (OFFER, Heard.TAKES_OFFER))
    assert reply.text.startswith("You're in line at Zen Spa tomorrow: #1")
    assert await in_line(ANN) == [TOMORROW]
    assert await question(ANN) is None


@pytest.mark.parametrize("answer", ["tomorrow", "1", "Y", "sure, thanks"])
async def test_the_day_offered_is_also_taken_by_its_name_or_its_number(full_today, answer):
    await say(ANN, "join spa")
    await say(ANN, answer)
    assert await in_line(ANN) == [TOMORROW]


@pytest.mark.parametrize("answer", ["thanks", "ok", "friday"])
async def test_an_acknowledgement_or_another_day_does_not_take_the_offer(full_today, answer):
    await say(ANN, "join spa")
    await say(ANN, answer)
    assert await in_line(ANN) == []
    assert await question(ANN) is None


async def test_a_command_instead_of_yes_closes_the_offer_and_is_answered(full_today, rows):
    await say(ANN, "join spa")
    reply = await say(ANN, "status")
    took(rows[1:], (OFFER, Heard.COMMAND))
    assert reply.text == replies.not_in_line()
    assert await question(ANN) is None
    await say(ANN, "yes")
    assert await in_line(ANN) == []


async def test_other_words_after_an_offer_close_it_and_are_read_afresh(full_today, rows):
    await say(ANN, "join spa")
    reply = await say(ANN, "what about the weekend")
    took(rows[1:], (OFFER, Heard.WORDS))
    assert "JOIN" in reply.text
    assert await question(ANN) is None
    assert await in_line(ANN) == []


def test_every_row_of_the_dialogue_has_a_test_above():
    assert set(ROW_TESTS) == set(DIALOGUE)
    assert all(callable(globals().get(name)) for name in ROW_TESTS.values())


# The Reply: menus and choices ------------------------------------------------------


async def test_a_channel_that_draws_menus_learns_whether_the_customer_is_in_a_line(spa):
    assert (await say(ANN, "help", menus=True)).menu is Menu.CUSTOMER_IDLE
    assert (await say(ANN, "join spa", menus=True)).menu is Menu.CUSTOMER_IN_LINE
    assert (await say(ANN, "help", menus=True)).menu is Menu.CUSTOMER_IN_LINE
    assert (await say(ANN, "leave", menus=True)).menu is Menu.CUSTOMER_IDLE


async def test_a_called_customer_gets_the_menu_that_says_here_until_they_confirm(spa):
    await say(ANN, "join spa")
    await calling.call_next(service_account_phone=SPA, now=NOW)
    assert (await say(ANN, "help", menus=True)).menu is Menu.CUSTOMER_CALLED
    assert (await say(ANN, "status", menus=True)).menu is Menu.CUSTOMER_CALLED
    assert (await say(ANN, "here", menus=True)).menu is Menu.CUSTOMER_IN_LINE
    assert (await say(ANN, "help", menus=True)).menu is Menu.CUSTOMER_IN_LINE


async def test_a_spot_on_a_day_already_past_for_its_place_is_no_line_to_be_in(spa):
    yesterday = date(2026, 11, 17)
    await booking.book(
        user_phone=ANN, service_account_phone=SPA, appointment_date=yesterday,
        now=datetime(2026, 11, 17, 15, 0, tzinfo=UTC),
    )
    assert (await say(ANN, "help", menus=True)).menu is Menu.CUSTOMER_IDLE


async def test_a_channel_without_menus_gets_none_where_the_engine_read_nothing_that_tells(spa):
    assert (await say(ANN, "help")).menu is Menu.NONE
    assert (await say(ANN, "join spa")).menu is Menu.CUSTOMER_IN_LINE


async def test_no_menu_while_the_engine_asks_for_a_name(spa):
    assert (await say(NEW, "hello", menus=True)).menu is Menu.NONE


async def test_a_providers_phone_gets_its_console(spa):
    reply = await say(SPA, "queue", menus=True)
    assert reply.menu is Menu.PROVIDER_CONSOLE
    assert reply.choices == ()


async def test_a_numbered_question_carries_its_choices_again_when_asked_again(two_places):
    asked = await say(ANN, "join")
    assert asked.choices == (Choice("Zen Spa", "1"), Choice("Zen Garden", "2"))
    again = await say(ANN, "9")
    assert again.choices == asked.choices


async def test_a_customers_text_is_parsed_once_and_a_providers_once_more_as_the_provider(
    spa, monkeypatch
):
    from bot import engine

    parsed: list[str] = []
    parse = engine.parse

    def counting(text: str, *, role: Any) -> Any:
        parsed.append(role)
        return parse(text, role=role)

    monkeypatch.setattr(engine, "parse", counting)
    await handle_message(channel=Channel.SMS, phone=ANN, text="status", now=NOW)
    assert parsed == ["customer"]
    parsed.clear()
    reading = read("queue")
    await handle_message(channel=Channel.SMS, phone=SPA, text="queue", now=NOW, reading=reading)
    assert parsed == ["customer", "provider"]
