"""A grace period on Telegram: the called customer hears the reminder and the closing
of their spot in their chat, the provider hears of the no-show and its UNDO puts it back."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import Appointment, Channel, Status
from core.rules import notice_texts
from core.rules.days import utcnow
from core.services import grace
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


async def test_a_telegram_customer_who_does_not_confirm_is_reminded_then_closed_and_undo_restores(
    bot,
):
    await make_provider()
    spa = bot.user(PROVIDER_PHONE, "Sam")
    await spa.links()
    ann = bot.user(ANN, "Ann")
    await ann.links()
    await ann.says("join spa")
    await spa.says("/next")
    assert spa.last_text().startswith("Called Ann")

    transport = TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))

    async def deliver(at: datetime) -> None:
        dispatcher = Dispatcher({Channel.TELEGRAM: transport}, max_age=None, clock=lambda: at)
        while await dispatcher.run_once():
            pass

    await deliver(utcnow())
    assert notice_texts.your_turn(place_name="Serene Spa") in ann.texts()
    # The clock the timers (and then the outbox) read, past the default 15 minutes.
    later = utcnow() + timedelta(minutes=16)
    assert await grace.fire_due(now=later) == 2
    await deliver(later)
    assert notice_texts.grace_reminder(place_name="Serene Spa") in ann.texts()
    assert notice_texts.grace_closed(place_name="Serene Spa", minutes="15") in ann.texts()
    no_show = notice_texts.grace_no_show(name="Ann Lee", phone=ANN, minutes="15")
    assert no_show in spa.texts()
    assert (await Appointment.get(user__phone=ANN)).status is Status.NO_SHOW

    await spa.says("/undo")
    assert spa.last_text().startswith("Undone the no-show: Ann")
    assert (await Appointment.get(user__phone=ANN)).status is Status.ACTIVE
