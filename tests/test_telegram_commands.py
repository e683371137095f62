"""`waitlist telegram set-webhook` and `waitlist telegram poll`, against the fake Bot API."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from core.locales import say
from core.models import InboundMessage, TelegramLink
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_support import (  # noqa: F401 (fixtures)
    SECRET,
    telegram_api,
    telegram_settings,
)
from webhooks.app import create_app
from webhooks.telegram import commands

ANN = "+14155550101"


async def test_set_webhook_registers_the_public_url_with_the_secret_and_update_types(
    database_url, telegram_api
):
    settings = telegram_settings(database_url, telegram_api.url)
    url = await commands.set_webhook(settings)
    assert url == "https://waitlist.example/webhooks/telegram"
    assert telegram_api.webhook["url"] == url
    assert telegram_api.webhook["secret_token"] == SECRET
    allowed = telegram_api.webhook["allowed_updates"]
    assert allowed == ["message", "callback_query", "my_chat_member"]
    menu = telegram_api.calls_of("setMyCommands")[0].params["commands"]
    assert {c["command"] for c in menu} >= {"join", "status", "leave", "help", "queue", "next"}


@pytest.mark.parametrize(
    ("public_base_url", "message"),
    [(None, "PUBLIC_BASE_URL is not set"), ("http://waitlist.example", "https://")],
)
async def test_set_webhook_needs_a_public_https_url(
    database_url, telegram_api, public_base_url, message
):
    settings = telegram_settings(database_url, telegram_api.url, public_base_url=public_base_url)
    with pytest.raises(SystemExit, match=message):
        await commands.set_webhook(settings)
    assert telegram_api.calls == []


async def test_set_webhook_with_a_refused_token_says_so_without_printing_it(database_url):
    fake = FakeTelegramAPI(token="1:other")
    async with fake.running():
        settings = telegram_settings(database_url, fake.url)
        with pytest.raises(SystemExit) as stopped:
            await commands.set_webhook(settings)
    assert "refused TELEGRAM_BOT_TOKEN" in str(stopped.value)
    assert settings.telegram_bot_token.get_secret_value() not in str(stopped.value)


async def test_polling_handles_updates_like_the_webhook_and_only_once(database_url, telegram_api):
    app = create_app(telegram_settings(database_url, telegram_api.url))
    runner = web.AppRunner(app)
    await runner.setup()
    chat = 4242
    sender = {"id": chat, "is_bot": False, "first_name": "Ann"}
    update = {
        "update_id": 900,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": sender,
            "contact": {"phone_number": ANN.lstrip("+"), "first_name": "Ann", "user_id": chat},
        },
    }
    hello = {**update, "update_id": 901, "message": {**update["message"], "text": "/start"}}
    del hello["message"]["contact"]
    try:
        task = asyncio.create_task(commands.poll(app, long_poll_seconds=1))
        telegram_api.push_update(update)
        await telegram_api.wait_until(lambda: len(telegram_api.texts(chat)) == 2)
        task.cancel()
        # A poller that starts again without the offset gets the same update again.
        task = asyncio.create_task(commands.poll(app, long_poll_seconds=1))
        telegram_api.push_update(update)
        telegram_api.push_update(hello)
        await telegram_api.wait_until(lambda: len(telegram_api.texts(chat)) == 3)
        assert await TelegramLink.filter(chat_id=chat).count() == 1
        assert await InboundMessage.all().count() == 2
    finally:
        task.cancel()
        await runner.cleanup()
    assert telegram_api.calls_of("deleteWebhook")
    assert telegram_api.texts(chat)[0] == say("tg_linked", tail="0101")
    assert telegram_api.texts(chat)[2].startswith("Text JOIN")
