"""A join on Telegram carries the same status link as one by SMS."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import re

from core.services import users
from tests.sms_support import ANN
from tests.telegram_support import bot, telegram_api  # noqa: F401 (fixtures)
from tests.telegram_support import make_provider as make_telegram_provider


async def test_a_join_on_telegram_carries_a_link_to_the_same_page(bot):
    await make_telegram_provider()
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN, "Ann")
    await ann.links()

    await ann.says("join")

    reply = ann.last_text()
    assert reply.startswith("You're in line at Serene Spa today: #1, 0 ahead")
    found = re.search(r"https://waitlist\.example/s/([A-Za-z0-9_-]+)", reply)
    assert found, reply
    response = await bot.client.get(f"/s/{found[1]}")
    body = await response.text()
    assert response.status == 200
    assert "Serene Spa" in body
