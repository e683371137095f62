"""On Telegram the user's language_code decides a new customer's language before their
words do, through the real webhook, engine and fake Bot API."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.models import Contact
from core.services import users
from tests.telegram_support import bot, make_provider, telegram_api  # noqa: F401 (fixtures)

ANN = "+14155550101"


async def test_a_telegram_user_whose_app_is_in_spanish_is_answered_in_spanish(bot):
    await make_provider()
    await users.create_user(name="Ana Lee", phone=ANN)
    ana = bot.user(ANN, "Ana", language_code="es-MX")
    await ana.links()
    await ana.says("join")
    assert ana.last_text().startswith("Turno en ")
    assert (await Contact.get(phone=ANN)).language == "es"


async def test_a_telegram_user_whose_app_is_in_another_language_is_read_by_their_words(bot):
    await make_provider()
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN, "Ann", language_code="de")
    await ann.links()
    await ann.says("join")
    assert ann.last_text().startswith("You're in line at ")
