"""CLOSE and OPEN from Telegram's command menu, and a customer's join refused while closed."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.locales import say
from tests.telegram_support import (  # noqa: F401 (fixtures)
    PROVIDER_PHONE,
    bot,
    make_provider,
    telegram_api,
)
from tests.test_telegram_conversation import customer
from webhooks.telegram.commands import COMMANDS


async def test_the_provider_closes_and_opens_todays_joins_from_the_menu(bot):
    assert {"close", "open"} <= {command.command for command in COMMANDS}
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = await customer(bot)
    await spa.says("/close")
    assert spa.last_text().startswith("Closed: no new joins today.")
    await ann.says("join spa")
    assert "closed for joins today" in ann.last_text()
    assert "Next day with room: tomorrow." in ann.last_text()
    # The provider's buttons send the same words.
    await spa.presses(spa.buttons()[say("tg_open")])
    assert spa.last_text().startswith("Open again")
    await ann.says("join spa")
    assert "in line" in ann.last_text()


async def test_a_refused_join_offers_the_next_day_as_a_button_that_books_it(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = await customer(bot)
    await spa.says("/close")
    await ann.says("join spa")
    offer = ann.buttons()
    assert offer == {"1. Join tomorrow": "1"}
    await ann.presses(offer["1. Join tomorrow"])
    assert ann.last_text().startswith("You're in line at Serene Spa tomorrow: #1")
