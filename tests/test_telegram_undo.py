"""UNDO on Telegram: the provider's console has an Undo button that sends UNDO, and
the customer whose call was undone hears it on Telegram."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.locales import say
from core.models import Appointment, Channel
from core.rules import notice_texts
from core.services.outbox.dispatcher import Dispatcher
from tests.telegram_support import (  # noqa: F401 (fixtures)
    PROVIDER_PHONE,
    bot,
    make_provider,
    telegram_api,
)
from webhooks.telegram.outbound import TelegramTransport
from webhooks.telegram.pacing import BotPacer

ANN = "+14155550101"


async def test_the_undo_button_reverts_a_call_and_the_customer_hears_they_are_back(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = bot.user(ANN, "Ann")
    await ann.links()
    await ann.says("join spa")

    await spa.says("/next")
    assert spa.last_text().startswith("Called Ann")
    assert spa.buttons()[say("tg_undo")] == "UNDO"
    await spa.presses(spa.buttons()[say("tg_undo")])
    assert spa.last_text().startswith("Undone NEXT: Ann")
    assert "back in line at #1" in spa.last_text()
    assert (await Appointment.get(user__phone=ANN)).called_at is None

    await spa.says("/undo")
    assert spa.last_text().startswith("Your last action was already undone.")

    transport = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))
    while await Dispatcher({Channel.TELEGRAM: transport}).run_once():
        pass
    assert notice_texts.back_in_line(place_name="Serene Spa", position=1) in ann.texts()
