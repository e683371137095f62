"""On Telegram the user's language_code decides a new customer's language before their
words do, through the real webhook, engine and fake Bot API; a code with no catalog
leaves it to their words."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import pytest

from core.models import Contact
from core.services import users
from tests.telegram_support import bot, make_provider, telegram_api  # noqa: F401 (fixtures)

ANN = "+14155550101"


@pytest.mark.parametrize(
    ("language_code", "answer", "kept"),
    [("es-MX", "Turno en ", "es"), ("de", "You're in line at ", "en")],
)
async def test_a_telegram_users_app_language_decides_where_there_is_a_catalog_for_it(
    bot, language_code, answer, kept
):
    await make_provider()
    await users.create_user(name="Ana Lee", phone=ANN)
    ana = bot.user(ANN, "Ana", language_code=language_code)
    await ana.links()
    await ana.says("join")
    assert ana.last_text().startswith(answer)
    assert (await Contact.get(phone=ANN)).language == kept
