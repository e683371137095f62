"""The conversation on Telegram: the engine's replies, by text, commands and buttons."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import timedelta

from core.locales import say
from core.models import Appointment, Channel, OutboxMessage, OutboxStatus, Status
from core.rules.days import today_in, utcnow
from core.services import users
from core.services.outbox.dispatcher import Dispatcher
from tests.telegram_support import (  # noqa: F401 (fixtures)
    PROVIDER_CONSOLE_WORDS,
    PROVIDER_PHONE,
    bot,
    make_provider,
    telegram_api,
)
from webhooks.telegram import keyboards
from webhooks.telegram.outbound import TelegramTransport
from webhooks.telegram.pacing import BotPacer

ANN = "+14155550101"
BOB = "+14155550102"


def today() -> str:
    return today_in("UTC", now=utcnow()).isoformat()


def tomorrow() -> str:
    return (today_in("UTC", now=utcnow()) + timedelta(days=1)).isoformat()


async def customer(bot, phone=ANN, name="Ann Lee"):
    await users.create_user(name=name, phone=phone)
    person = bot.user(phone, name.split()[0])
    await person.links()
    return person


async def active(phone=ANN) -> list[Appointment]:
    return await Appointment.filter(user__phone=phone, status=Status.ACTIVE)


async def test_join_status_and_leave_by_buttons(bot):
    await make_provider()
    ann = await customer(bot)

    await ann.presses(ann.buttons()[say("tg_join")])
    # One place: the Join button opens the day picker in place of the old buttons.
    edit = bot.api.calls_of("editMessageReplyMarkup")[-1]
    days = {
        b["text"]: b["callback_data"]
        for row in edit.params["reply_markup"]["inline_keyboard"]
        for b in row
    }
    assert days["Today"] == f"JOIN SPA {today()}"
    assert days["Tomorrow"] == f"JOIN SPA {tomorrow()}"
    assert len(days) == keyboards.DAYS_AHEAD

    await ann.presses(days["Today"])
    assert ann.last_text().startswith("You're in line at Serene Spa today: #1, 0 ahead")
    assert len(await active()) == 1
    assert set(ann.buttons()) == {say("tg_status"), say("tg_late"), say("tg_why"), say("tg_leave"), say("tg_join")}

    await ann.presses(ann.buttons()[say("tg_status")])
    assert ann.last_text().startswith("Serene Spa today: #1, 0 ahead")
    # Late and Why type the words a customer would: alone in line, Ann keeps her place.
    await ann.presses(ann.buttons()[say("tg_late")])
    assert ann.last_text().startswith("You keep your place, you'll be in time.")
    await ann.presses(ann.buttons()[say("tg_why")])
    assert ann.last_text() == (
        "Serene Spa: you have no cancellations or no-shows counting; "
        "your place is by the time you joined."
    )

    await ann.presses(ann.buttons()[say("tg_leave")])
    assert ann.last_text().startswith("You've left the line at Serene Spa today")
    assert await active() == []
    assert set(ann.buttons()) == {say("tg_join"), say("tg_help")}

    # Every press was answered, and each pressed keyboard was taken away or replaced.
    assert len(bot.api.calls_of("answerCallbackQuery")) == 6
    edits = bot.api.calls_of("editMessageReplyMarkup")
    removed = [c for c in edits if "reply_markup" not in c.params]
    assert len(removed) == 5


async def test_join_status_and_leave_by_text(bot):
    await make_provider()
    ann = await customer(bot)
    await ann.says("join spa tomorrow please")
    assert ann.last_text().startswith("You're in line at Serene Spa tomorrow: #1")
    await ann.says("where am I?")
    assert ann.last_text().startswith("Serene Spa tomorrow: #1")
    await ann.says("leave")
    assert ann.last_text().startswith("You've left the line at Serene Spa tomorrow")
    assert await active() == []


async def test_join_status_and_leave_by_slash_commands(bot):
    await make_provider()
    ann = await customer(bot)
    await ann.says("/join@waitlist_test_bot SPA")
    assert "in line at Serene Spa today" in ann.last_text()
    await ann.says("/status")
    assert ann.last_text().startswith("Serene Spa today: #1")
    await ann.says("/help")
    assert "JOIN" in ann.last_text()
    await ann.says("/leave")
    assert await active() == []


async def test_with_several_places_the_join_button_offers_them_then_the_days(bot):
    await make_provider()
    await make_provider("+12025550180", "Barber Bob", code=None)
    ann = await customer(bot)
    await ann.presses(ann.buttons()[say("tg_join")])
    places = bot.api.calls_of("editMessageReplyMarkup")[-1].params["reply_markup"]
    picked = {row[0]["text"]: row[0]["callback_data"] for row in places["inline_keyboard"]}
    assert picked == {"Serene Spa": "ui:day:SPA", "Barber Bob": "ui:day:+12025550180"}

    await ann.presses(picked["Barber Bob"])
    days = bot.api.calls_of("editMessageReplyMarkup")[-1].params["reply_markup"]
    assert days["inline_keyboard"][0][0]["callback_data"] == f"JOIN {today()} +12025550180"
    await ann.presses(days["inline_keyboard"][0][1]["callback_data"])
    assert ann.last_text().startswith("You're in line at Barber Bob tomorrow")


async def test_the_engines_numbered_questions_become_buttons(bot):
    await make_provider()
    await make_provider("+12025550180", "Barber Bob", code="BOB")
    ann = await customer(bot)
    await ann.says("join")
    assert ann.last_text().startswith("Which place?")
    assert ann.buttons() == {"1. Serene Spa": "1", "2. Barber Bob": "2"}
    await ann.presses("2")
    assert ann.last_text().startswith("You're in line at Barber Bob today")

    await ann.says("join spa tomorrow")
    await ann.presses(ann.buttons()[say("tg_leave")])
    assert ann.last_text().startswith("Which one?")
    assert ann.buttons() == {"1. Barber Bob today": "1", "2. Serene Spa tomorrow": "2"}
    await ann.presses("2")
    assert ann.last_text().startswith("You've left the line at Serene Spa tomorrow")
    assert [a.day.isoformat() for a in await active()] == [today()]


async def test_a_new_customer_can_start_with_buttons_and_gets_none_while_asked_for_a_name(bot):
    await make_provider()
    # A contact card with no name we can read, so the engine asks for one.
    ann = bot.user(ANN, "🙂", None)
    await ann.links()
    assert ann.last_text().startswith("Text JOIN")
    await ann.presses(ann.buttons()[say("tg_join")])
    days = bot.api.calls_of("editMessageReplyMarkup")[-1].params["reply_markup"]
    await ann.presses(days["inline_keyboard"][0][1]["callback_data"])
    assert "name" in ann.last_text().lower()
    assert ann.buttons() == {}
    await ann.says("Ann Lee")
    assert ann.last_text().startswith("You're in line at Serene Spa tomorrow")


async def test_a_stale_picker_for_a_day_that_has_passed_books_nothing(bot):
    await make_provider()
    ann = await customer(bot)
    yesterday = (today_in("UTC", now=utcnow()) - timedelta(days=1)).isoformat()
    await ann.presses(f"JOIN SPA {yesterday}")
    assert "passed" in ann.last_text()
    assert await active() == []


async def test_stop_by_command_opts_the_phone_out(bot):
    ann = await customer(bot)
    await ann.says("/stop")
    assert ann.last_text().startswith("You're unsubscribed")
    await ann.says("/start")
    # /start is Telegram's hello, not the opt-in word.
    assert "JOIN" in ann.last_text()


async def test_a_provider_runs_the_day_with_buttons(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = await customer(bot, ANN, "Ann Lee")
    bob = await customer(bot, BOB, "Bob Stone")
    await ann.says("join spa")
    await bob.says("join spa")

    await spa.presses(spa.buttons()[say("tg_queue")])
    assert spa.last_text().startswith("Serene Spa today: 2 waiting.")
    await spa.presses(spa.buttons()[say("tg_next")])
    assert spa.last_text().startswith("Called Ann L.")
    await spa.presses(spa.buttons()[say("tg_done")])
    assert spa.last_text().startswith("Done: Ann L.")
    await spa.presses(spa.buttons()[say("tg_next")])
    assert spa.last_text().startswith("Called Bob S.")
    await spa.presses(spa.buttons()[say("tg_no_show")])
    assert spa.last_text().startswith("No-show: Bob S.")
    assert set(spa.buttons().values()) == PROVIDER_CONSOLE_WORDS

    statuses = {a.user_id: a.status for a in await Appointment.all()}
    assert sorted(statuses.values()) == [Status.COMPLETED, Status.NO_SHOW]

    # Ann and Bob heard by Telegram that their turn came (the outbox, through our transport).
    transport = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))
    while await Dispatcher({Channel.TELEGRAM: transport}).run_once():
        pass
    assert any(t.startswith("It's your turn at Serene Spa") for t in ann.texts())
    assert any(t.startswith("It's your turn at Serene Spa") for t in bob.texts())
    assert await OutboxMessage.exclude(status=OutboxStatus.SENT).count() == 0


async def test_a_provider_uses_slash_commands(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = await customer(bot)
    await ann.says("join spa")
    await spa.says("/queue")
    assert spa.last_text().startswith("Serene Spa today: 1 waiting.")
    await spa.says("/next")
    assert spa.last_text().startswith("Called Ann L.")
    await spa.says("/done")
    assert spa.last_text().startswith("Done: Ann L.")
    await spa.says("/help")
    assert "NEXT" in spa.last_text()


async def test_a_provider_asks_for_its_figures_with_the_stats_command(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = await customer(bot)
    await ann.says("join spa")
    await spa.says("/next")
    await spa.says("/done")
    await spa.says("/stats")
    assert spa.last_text().startswith("Today: 1 served, 0 no-shows (0%), 0 canceled.")
    await spa.says("/stats week")
    assert spa.last_text().startswith("Last 7 days: 1 served")


async def test_a_button_from_a_chat_that_is_not_linked_asks_for_the_phone(bot):
    stranger = bot.user(ANN)
    await stranger.says("hi")
    await stranger.presses("STATUS")
    assert stranger.last_text() == say("tg_ask_for_phone")
    assert len(bot.api.calls_of("answerCallbackQuery")) == 1
