"""One inbound path for every channel: an SMS and a Telegram message, both answered by
the real engine in one app, leave the same records through bot.inbox."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.models import InboundMessage, InboundRate
from core.services import users
from tests.fakes.telegram_api import BOT_ID, TOKEN
from tests.fakes.twilio_api import Webhooks
from tests.sms_support import (  # noqa: F401 (fixtures)
    PUBLIC,
    Sms,
    replies_in,
    sms_settings,
    twilio_api_fixture,
)
from tests.telegram_support import SECRET, Bot, telegram_api  # noqa: F401 (fixtures)
from webhooks.app import create_app
from webhooks.state import INBOX

ANN, BOB = "+14155550101", "+14155550102"


async def test_an_sms_and_a_telegram_message_leave_the_same_records_on_the_one_path(
    aiohttp_client, database_url, twilio_api, telegram_api
):
    settings = sms_settings(
        database_url,
        twilio_api.url,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=telegram_api.url,
    )
    app = create_app(settings)
    client = await aiohttp_client(app)
    sms = Sms(client=client, twilio=Webhooks(client, PUBLIC), api=twilio_api, engine=None)
    telegram = Bot(client, telegram_api, app)
    await users.create_user(name="Ann Lee", phone=ANN)
    await users.create_user(name="Bob Stone", phone=BOB)
    bob = telegram.user(BOB)
    await bob.links()

    [by_sms] = await replies_in(await sms.text(ANN, "help", sid="SM" + "a" * 32))
    await bob.says("help", update_id=910_001)
    await app[INBOX].replies.write()

    # Each delivery recorded under its channel's id, with its phone and the reply given.
    rows = await InboundMessage.filter(phone__in=[ANN, BOB]).order_by("id").values_list(
        "channel", "external_id", "phone", "reply"
    )
    shared_contact = rows[0]
    assert (shared_contact[0], shared_contact[2]) == ("telegram", BOB)
    assert shared_contact[3] in bob.texts()
    assert rows[1:] == [
        ("sms", "SM" + "a" * 32, ANN, by_sms),
        ("telegram", f"{BOT_ID}:910001", BOB, bob.last_text()),
    ]
    assert "JOIN" in by_sms
    assert "JOIN" in bob.last_text()
    # And each phone is counted in its own channel's window.
    rates = await InboundRate.all().order_by("channel").values_list("channel", "phone", "seen")
    assert rates == [("sms", ANN, 1), ("telegram", BOB, 2)]
