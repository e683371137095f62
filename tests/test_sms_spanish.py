"""A conversation in Spanish by SMS and by WhatsApp, through the signed webhook, the
real engine and the fake Twilio on loopback: join, status, late, help and leave, each
answered in one GSM-7 segment in Spanish, and the notices sent in Spanish too."""

from __future__ import annotations

from bot import replies
from core import locales
from core.models import Contact
from core.rules import notice_texts
from core.rules.gsm import is_gsm7
from core.services import service_accounts
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    deliver_outbox,
    one_reply,
    real_sms_fixture,
    replies_in,
    twilio_api_fixture,
)
from tests.whatsapp_support import wa_fixture, whatsapp, zen_spa  # noqa: F401 (fixtures)


async def test_a_spanish_conversation_by_sms_is_answered_in_spanish_throughout(
    real_sms, twilio_api
):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")

    async def text(phone: str, body: str) -> str:
        reply = await one_reply(real_sms, phone, body)
        assert is_gsm7(reply), reply
        return reply

    assert "¿Me dices tu nombre?" in await text(ANN, "Hola, quiero un turno")
    assert (await text(ANN, "Ana Bello")).startswith("Turno en Zen Spa hoy: #1, 0 delante")
    await text(BOB, "join")
    await text(BOB, "Bob Carter")
    assert (await text(ANN, "¿cuántos faltan?")).startswith("Zen Spa hoy: #1, 0 delante")
    moved = await text(ANN, "voy tarde 20")
    assert moved.startswith("Sin problema. Zen Spa: ahora #2, 1 delante")
    assert "UNIRME" in await text(ANN, "ayuda")
    # English customers in the same line are still answered in English.
    assert (await text(BOB, "status")).startswith("Zen Spa today: #1, 0 ahead")

    # BOB is called; ANN, now first in line, hears it in Spanish.
    assert "Called Bob C." in await text(PROVIDER_PHONE, "next")
    await deliver_outbox(real_sms)
    near = notice_texts.you_are_next(place_name="Zen Spa", language="es")
    await twilio_api.wait_until(
        lambda: any(m.to == ANN and m.body == near for m in twilio_api.messages)
    )
    assert (await text(ANN, "ya no voy")).startswith("Has dejado la fila de Zen Spa hoy.")
    assert (await Contact.get(phone=ANN)).language == "es"


async def test_a_spanish_conversation_on_whatsapp_is_answered_in_spanish_throughout(wa):
    await zen_spa()

    async def text(body: str) -> str:
        reply = await whatsapp(wa, ANN, body)
        assert is_gsm7(reply), reply
        return reply

    assert "¿Me dices tu nombre?" in await text("quiero un turno en SPA")
    assert (await text("Ana Bello")).startswith("Turno en Zen Spa hoy: #1, 0 delante")
    assert (await text("estado")).startswith("Zen Spa hoy: #1, 0 delante")
    assert "Zen Spa" in await text("voy tarde")
    # No carrier acts on CANCEL on WhatsApp: its help does not warn about it.
    with locales.speaking("es"):
        assert await text("ayuda") == replies.help_customer(cancel_opts_out=False)
    assert (await text("salir")).startswith("Has dejado la fila de Zen Spa hoy.")


async def test_a_customer_who_writes_spanish_is_slowed_down_in_spanish(real_sms):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    await one_reply(real_sms, ANN, "estado")
    assert (await Contact.get(phone=ANN)).language == "es"

    # The first text and 19 more are answered; the 21st in the minute is slowed down.
    answers = [await replies_in(await real_sms.text(ANN, f"estado {n}")) for n in range(20)]

    assert answers[-1] == [locales.say("slow_down_sms", language="es")]
    assert is_gsm7(answers[-1][0])


def test_telegram_buttons_are_labelled_in_the_language_of_the_reply_they_sit_under():
    from bot.reply import Menu, Reply
    from webhooks.telegram import keyboards

    def labels(language: str) -> list[str]:
        markup = keyboards.for_reply(Reply("...", menu=Menu.CUSTOMER_IN_LINE, language=language))
        assert markup is not None
        return [b.text for row in markup.inline_keyboard for b in row]

    assert labels("es") == ["Mi lugar", "Voy tarde", "¿Por qué este lugar?", "Salir", "Unirme"]
    assert labels("en") == ["My place", "I'm running late", "Why this place?", "Leave", "Join"]
    # The same words go back to the engine whatever the label says.
    spanish = keyboards.for_reply(Reply("...", menu=Menu.CUSTOMER_IN_LINE, language="es"))
    assert spanish is not None
    assert [b.callback_data for b in spanish.inline_keyboard[0]] == ["STATUS", "LATE"]
