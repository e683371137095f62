"""Telegram on the one inbound path: the flood limit, redeliveries, stored replies."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import handle_message
from core.connectivity import DatabaseUnavailable
from core.locales import say
from core.models import Appointment, InboundMessage, InboundRate, Status, TelegramLink
from core.services import users
from tests.fakes.telegram_api import BOT_ID
from tests.telegram_support import (  # noqa: F401 (fixtures)
    Bot,
    bot,
    make_provider,
    telegram_api,
    telegram_settings,
)
from webhooks.app import create_app
from webhooks.state import INBOX

ANN = "+14155550101"


class CountingEngine:
    """The real engine, counting the messages it answers."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, **kwargs: Any) -> str:
        self.texts.append(kwargs["text"])
        return await handle_message(**kwargs)


@pytest.fixture
async def limited_bot(aiohttp_client, database_url, telegram_api) -> Bot:
    app = create_app(telegram_settings(database_url, telegram_api.url, inbound_per_minute=3))
    client = await aiohttp_client(app)
    return Bot(client, telegram_api, app)


async def linked(bot: Bot, phone: str = ANN):
    await users.create_user(name="Ann Lee", phone=phone)
    person = bot.user(phone)
    await person.links()
    return person


async def test_a_chat_over_the_inbound_limit_is_told_to_slow_down_once_and_the_engine_does_not_run(
    limited_bot,
):
    engine = CountingEngine()
    limited_bot.app[INBOX].engine = engine
    # Sharing the contact is the chat's first message of the minute (the engine says HELP).
    ann = await linked(limited_bot)
    await ann.says("status")
    await ann.says("help")
    assert len(engine.texts) == 3
    answered = len(ann.texts())

    await ann.says("status")
    assert ann.last_text() == say("slow_down_telegram")
    assert limited_bot.api.last(ann.chat_id).params.get("reply_markup") is None
    await ann.says("join")
    await ann.says("/status")

    assert len(ann.texts()) == answered + 1
    assert len(engine.texts) == 3
    assert (await InboundRate.get(channel="telegram", phone=ANN)).seen == 6


async def test_a_chat_over_the_limit_is_answered_again_once_the_window_has_passed(limited_bot):
    ann = await linked(limited_bot)
    for _ in range(4):
        await ann.says("status")
    assert ann.last_text() == say("slow_down_telegram")
    rate = await InboundRate.get(channel="telegram", phone=ANN)
    rate.window_start = rate.window_start.replace(year=rate.window_start.year - 1)
    await rate.save(update_fields=["window_start"])

    await ann.says("help")
    assert "JOIN" in ann.last_text()


async def test_button_presses_count_towards_the_inbound_limit(limited_bot):
    ann = await linked(limited_bot)
    await ann.presses("HELP")
    await ann.presses("STATUS")
    assert ann.last_text() != say("slow_down_telegram")
    await ann.presses("HELP")
    assert ann.last_text() == say("slow_down_telegram")
    # The press was answered all the same: the client shows no spinner.
    assert len(limited_bot.api.calls_of("answerCallbackQuery")) == 3


async def test_a_redelivered_text_update_does_nothing_and_its_reply_is_not_sent_twice(bot):
    await make_provider()
    engine = CountingEngine()
    bot.app[INBOX].engine = engine
    ann = await linked(bot)
    first = await ann.says("join spa", update_id=900_001)
    sent = len(bot.api.sent())

    again = await ann.says("join spa", update_id=900_001)

    assert (await first.json())["duplicate"] is False
    assert (await again.json())["duplicate"] is True
    assert len(bot.api.sent()) == sent
    assert engine.texts.count("join spa") == 1
    assert await Appointment.filter(user__phone=ANN, status=Status.ACTIVE).count() == 1
    assert await InboundMessage.filter(external_id=f"{BOT_ID}:900001").count() == 1
    assert (await InboundRate.get(channel="telegram", phone=ANN)).seen == 2


async def test_a_redelivered_button_press_is_not_answered_again(bot):
    ann = await linked(bot)
    pressed = bot.api.last(ann.chat_id)
    update = {
        "update_id": 900_002,
        "callback_query": {
            "id": "cq-once",
            "from": ann._sender(),
            "chat_instance": f"ci{ann.chat_id}",
            "message": {
                "message_id": pressed.result_id,
                "date": 1_700_000_000,
                "chat": ann._chat(),
                "text": "x",
            },
            "data": "HELP",
        },
    }
    await bot.deliver(dict(update))
    sent = len(bot.api.sent())
    again = await bot.deliver(dict(update))

    assert (await again.json())["duplicate"] is True
    assert len(bot.api.sent()) == sent
    assert len(bot.api.calls_of("answerCallbackQuery")) == 1


async def test_a_redelivered_blocked_notice_changes_nothing(bot):
    ann = await linked(bot)
    member = {"user": {"id": 7000001, "is_bot": True, "first_name": "Waitlist"}}
    notice = {
        "update_id": 900_003,
        "my_chat_member": {
            "chat": ann._chat(),
            "from": ann._sender(),
            "date": 1_700_000_000,
            "old_chat_member": {**member, "status": "member"},
            "new_chat_member": {**member, "status": "kicked", "until_date": 0},
        },
    }
    assert (await (await bot.deliver(dict(notice))).json())["duplicate"] is False
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is False
    # They unblocked the bot and wrote again; then the old notice comes back.
    await ann.says("status")
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is True

    again = await bot.deliver(dict(notice))

    assert (await again.json())["duplicate"] is True
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is True


async def test_a_redelivered_message_from_a_chat_not_linked_yet_asks_for_the_phone_once(bot):
    stranger = bot.user(ANN)
    await stranger.says("join spa", update_id=900_004)
    again = await stranger.says("join spa", update_id=900_004)

    assert (await again.json())["duplicate"] is True
    assert stranger.texts() == [say("tg_ask_for_phone")]


async def test_the_reply_to_a_telegram_message_is_stored_on_its_delivery(bot):
    ann = await linked(bot)
    await ann.says("help", update_id=900_005)
    await bot.app[INBOX].replies.write()

    row = await InboundMessage.get(external_id=f"{BOT_ID}:900005")
    assert (row.channel, row.phone, row.reply) == ("telegram", ANN, ann.last_text())


async def test_an_update_met_by_a_database_outage_is_a_503_and_handled_when_delivered_again(
    bot, monkeypatch
):
    ann = await linked(bot)
    sent = len(bot.api.sent())

    async def outage(chat_id: int) -> str | None:
        raise DatabaseUnavailable("the database went away")

    monkeypatch.setattr("webhooks.telegram.links.phone_of", outage)
    first = await ann.says("help", update_id=900_006)
    assert first.status == 503
    assert len(bot.api.sent()) == sent
    monkeypatch.undo()

    again = await ann.says("help", update_id=900_006)
    assert again.status == 200
    assert (await again.json())["duplicate"] is False
    assert "JOIN" in ann.last_text()
