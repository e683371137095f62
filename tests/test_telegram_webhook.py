"""POST /webhooks/telegram: the secret token, idempotency by update_id, bad bodies."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import pytest

from core.locales import say
from core.models import InboundMessage, TelegramLink
from tests.fakes.telegram_api import BOT_ID, FakeTelegramAPI
from tests.telegram_support import (  # noqa: F401 (fixtures)
    PATH,
    SECRET,
    SECRET_HEADER,
    bot,
    telegram_api,
    telegram_settings,
)
from webhooks.app import create_app
from webhooks.state import INBOX

ANN = "+14155550101"


async def test_an_update_with_the_right_secret_is_accepted_and_answered(bot):
    ann = bot.user(ANN)
    response = await ann.says("hello")
    assert response.status == 200
    assert (await response.json())["duplicate"] is False
    assert ann.last_text().startswith("Hi!")


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_an_update_with_a_wrong_or_missing_secret_is_refused_and_nothing_happens(bot, secret):
    ann = bot.user(ANN)
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": ann.chat_id, "type": "private"},
            "from": {"id": ann.user_id, "is_bot": False, "first_name": "Ann"},
            "contact": {"phone_number": ANN, "first_name": "Ann", "user_id": ann.user_id},
        },
    }
    response = await bot.deliver(update, secret=secret)
    assert response.status == 403
    assert await InboundMessage.all().count() == 0
    assert await TelegramLink.all().count() == 0
    assert bot.api.sent() == []


async def test_a_redelivered_update_changes_nothing_and_sends_nothing(bot):
    ann = bot.user(ANN)
    first = await ann.shares_contact()
    update_id = (await InboundMessage.all().first()).external_id.split(":")[1]
    sent = len(bot.api.sent())
    message = {
        "message_id": 5,
        "date": 1,
        "chat": {"id": ann.chat_id, "type": "private"},
        "from": {"id": ann.user_id, "is_bot": False, "first_name": "Ann"},
        "text": "join",
    }
    again = await bot.deliver({"update_id": int(update_id), "message": message})
    assert first.status == again.status == 200
    assert (await again.json())["duplicate"] is True
    assert len(bot.api.sent()) == sent
    assert await InboundMessage.all().count() == 1


async def test_the_update_id_is_recorded_per_bot(bot):
    await bot.user(ANN).says("hi", update_id=42)
    row = await InboundMessage.get(external_id=f"{BOT_ID}:42")
    assert row.channel == "telegram"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "Malformed JSON"),
        (b"", "Malformed JSON"),
        (b"\xff\xfe", "Malformed JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"{}", "update_id"),
        (b'{"update_id": "7"}', "update_id"),
        (b'{"update_id": true}', "update_id"),
        (b'{"update_id": 7, "message": "not a message"}', "not a Telegram update"),
        (b'{"update_id": 7, "message": {"chat": 5}}', "not a Telegram update"),
    ],
)
async def test_a_body_that_is_not_an_update_is_a_400_with_detail_and_nothing_is_stored(
    bot, body, detail
):
    response = await bot.client.post(
        PATH, data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert detail in (await response.json())["detail"]
    assert await InboundMessage.all().count() == 0


async def test_an_update_the_bot_has_no_use_for_is_still_answered_200(bot):
    response = await bot.deliver(
        {
            "edited_message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 5, "type": "private"},
                "text": "x",
            }
        }
    )
    assert response.status == 200
    assert bot.api.sent() == []


async def test_a_failing_handler_still_answers_200_and_is_logged(bot, monkeypatch, caplog):
    # Fault injection: the engine promises never to raise; if a bug made it, Telegram
    # must still get a 200, or it would redeliver the update for a day.
    async def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(bot.app[INBOX], "engine", broken)
    ann = bot.user(ANN)
    await ann.links()
    response = await ann.says("status")
    assert response.status == 200
    assert "failed: RuntimeError" in caplog.text
    assert ann.last_text() == say("sorry")


async def test_without_a_token_the_route_is_404_and_start_up_says_why(
    aiohttp_client, database_url, caplog
):
    caplog.set_level("INFO")
    app = create_app(
        telegram_settings(
            database_url,
            "http://127.0.0.1:9",
            telegram_bot_token=None,
            telegram_webhook_secret=None,
        )
    )
    client = await aiohttp_client(app)
    response = await client.post(PATH, json={"update_id": 1}, headers={SECRET_HEADER: SECRET})
    assert response.status == 404
    assert "TELEGRAM_BOT_TOKEN is not set" in caplog.text


async def test_an_oversized_body_is_refused_before_it_is_read(bot):
    response = await bot.client.post(
        PATH, data=b"{" + b" " * 100_000 + b"}", headers={SECRET_HEADER: SECRET}
    )
    assert response.status == 413
    assert await InboundMessage.all().count() == 0


async def test_a_get_on_the_route_is_not_a_500(bot):
    response = await bot.client.get(PATH)
    assert response.status == 405


async def test_when_telegram_is_unreachable_the_server_starts_and_asks_for_a_redelivery(
    aiohttp_client, database_url, caplog
):
    # Nothing listens on port 9: getMe fails. Telegram redelivers after a non-2xx.
    client = await aiohttp_client(create_app(telegram_settings(database_url, "http://127.0.0.1:9")))
    assert (await client.get("/healthz")).status == 200
    response = await client.post(PATH, json={"update_id": 1}, headers={SECRET_HEADER: SECRET})
    assert response.status == 503
    assert "Telegram not reachable at start-up: NetworkError" in caplog.text
    assert await InboundMessage.all().count() == 0


async def test_a_refused_token_turns_the_channel_off_without_logging_the_token(
    aiohttp_client, database_url, caplog
):
    async with FakeTelegramAPI(token="1:another-bot").running() as fake:
        settings = telegram_settings(database_url, fake.url)
        client = await aiohttp_client(create_app(settings))
        response = await client.post(PATH, json={"update_id": 1}, headers={SECRET_HEADER: SECRET})
        assert response.status == 503
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in caplog.text
    assert settings.telegram_bot_token.get_secret_value() not in caplog.text
