"""HERE and WHY on Telegram: the same words as by SMS, and the provider, who last wrote
on Telegram, hears of the confirmation there."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from core.locales import say
from core.models import Channel
from core.rules import notice_texts
from core.services import calling, users
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


async def test_on_my_way_on_telegram_reaches_the_provider_on_telegram(bot):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN, "Ann")
    await ann.links()

    await ann.says("join spa")
    await ann.says("why")
    assert ann.last_text() == (
        "Serene Spa: you have no cancellations or no-shows counting; "
        "your place is by the time you joined."
    )
    await calling.call_next(service_account_phone=PROVIDER_PHONE)
    await ann.says("on my way")
    assert ann.last_text().startswith("Thanks! Serene Spa knows you're coming.")
    await spa.says("/queue")
    assert "Now: Ann L. (***0101) coming." in spa.last_text()

    transport = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))
    while await Dispatcher({Channel.TELEGRAM: transport}).run_once():
        pass
    assert notice_texts.coming(name="Ann Lee", phone=ANN) in spa.texts()
    assert any(t.startswith("It's your turn at Serene Spa") for t in ann.texts())


async def test_the_your_turn_notice_carries_a_here_button_that_confirms(bot):
    await make_provider()
    await users.create_user(name="Ann Lee", phone=ANN)
    ann = bot.user(ANN, "Ann")
    await ann.links()
    await ann.says("join spa")
    assert say("tg_here") not in ann.buttons()

    await calling.call_next(service_account_phone=PROVIDER_PHONE)
    transport = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))
    while await Dispatcher({Channel.TELEGRAM: transport}).run_once():
        pass
    assert ann.last_text().startswith("It's your turn at Serene Spa")
    notice_buttons = ann.buttons()
    assert notice_buttons[say("tg_here")] == "HERE"
    assert {say("tg_late"), say("tg_leave")} <= set(notice_buttons)

    await ann.presses(notice_buttons[say("tg_here")])
    assert ann.last_text().startswith("Thanks! Serene Spa knows you're coming.")
    # Confirmed: the button has done its job and is not offered again.
    assert say("tg_here") not in ann.buttons()
    assert say("tg_status") in ann.buttons()
