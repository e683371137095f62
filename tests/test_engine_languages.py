"""Languages through the engine on a real database: a customer is written to in the
language of their first words and kept in it, ESPAÑOL and ENGLISH switch it, a text
with no words of either language takes the provider's, providers read their own, and
notices go out in each recipient's language."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

from bot import provider_replies, replies
from bot.engine import handle_message
from core import locales
from core.models import Channel, Contact, OutboxMessage, ServiceAccount
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment
from tests.test_engine_dialogues import NOW, PHONES, say, spa  # noqa: F401 (fixtures)


async def language_of(who: str) -> str | None:
    contact = await Contact.get_or_none(phone=PHONES[who])
    return None if contact is None else contact.language


async def texts_to(who: str) -> list[str]:
    return list(
        await OutboxMessage.filter(recipient=PHONES[who])
        .order_by("id")
        .values_list("text", flat=True)
    )


async def test_a_new_customer_who_writes_spanish_is_answered_and_kept_in_spanish(spa):
    with locales.speaking("es"):
        ask = replies.ask_name()
    assert await say("new", "Hola, quiero un turno por favor") == ask
    joined = await say("new", "Nina Park")
    assert joined.startswith("Turno en Zen Spa hoy: #1, 0 delante, sin espera.")
    assert fits_one_segment(joined)
    assert await language_of("new") == "es"
    # Kept: a later text with no Spanish words is still answered in Spanish.
    assert (await say("new", "blorp")).startswith("Perdona, no te he entendido.")


async def test_spanish_commands_and_typos_work_as_the_english_ones(spa):
    await say("ann", "unirme")
    status = await say("ann", "¿cuántos faltan?")
    assert status.startswith("Zen Spa hoy: #1, 0 delante, sin espera.")
    assert await say("ann", "etsado") == status
    late = await say("ann", "voy tarde")
    assert late.startswith("Conservas tu turno, llegas a tiempo. Zen Spa: #1")
    assert "SALIR" in late
    assert "UNIRME" in await say("ann", "ayuda")
    left = await say("ann", "ya no voy")
    assert left.startswith("Has dejado la fila de Zen Spa hoy.")


async def test_espanol_and_english_switch_the_language_for_good(spa):
    assert (await say("ann", "join")).startswith("You're in line")
    with locales.speaking("es"):
        set_es = replies.language_set()
    assert await say("ann", "ESPAÑOL") == set_es
    assert await language_of("ann") == "es"
    # An English command word is still understood, and answered in Spanish.
    assert (await say("ann", "status")).startswith("Zen Spa hoy: #1")
    assert await say("ann", "english") == replies.language_set()
    assert (await say("ann", "estado")).startswith("Zen Spa today: #1")


async def test_a_text_with_no_words_of_either_language_takes_the_providers(spa):
    await ServiceAccount.filter(phone=PHONES["spa"]).update(language="es")
    with locales.speaking("es"):
        ask = replies.ask_name()
    assert await say("new", "hi", default="spa") == ask
    assert (await say("ann", "5", default="spa")).startswith("Perdona")
    # Nothing was decided: the customer's own words still will be.
    assert await language_of("new") is None
    assert "name" in await say("new", "join", default="spa")
    assert await language_of("new") == "en"


async def test_telegrams_language_code_decides_before_the_words(spa):
    reply = await handle_message(
        channel=Channel.TELEGRAM, phone=PHONES["ann"], text="join", now=NOW, language_hint="es-MX"
    )
    assert reply.text.startswith("Turno en Zen Spa hoy")
    assert await language_of("ann") == "es"


async def test_a_provider_reads_its_own_language_whatever_it_texts(spa):
    assert await say("spa", "siguiente") == provider_replies.nobody_waiting()
    await ServiceAccount.filter(phone=PHONES["spa"]).update(language="es")
    with locales.speaking("es"):
        nobody = provider_replies.nobody_waiting()
    assert await say("spa", "next") == nobody
    assert await say("spa", "siguiente") == nobody
    # ENGLISH from the provider's phone is its setting.
    await say("spa", "ENGLISH")
    assert (await ServiceAccount.get(phone=PHONES["spa"])).language == "en"


async def test_notices_are_written_in_each_recipients_language(spa):
    await say("ann", "unirme")
    await say("bob", "join")
    await say("spa", "next")
    assert await texts_to("ann") == [notice_texts.your_turn(place_name="Zen Spa", language="es")]
    assert await texts_to("bob") == [notice_texts.you_are_next(place_name="Zen Spa", language="en")]
    await say("ann", "ya llegué", minutes=1)
    # The provider hears that ann is coming in the provider's language.
    assert await texts_to("spa") == [
        notice_texts.coming(name="Ann Bell", phone=PHONES["ann"], language="en")
    ]


async def test_a_walk_in_hears_notices_in_the_providers_language(spa):
    await ServiceAccount.filter(phone=PHONES["spa"]).update(language="es")
    added = await say("spa", f"ADD {PHONES['walkin']} Walt Ino")
    assert added.startswith("Agregado Walt I.")
    await say("spa", "siguiente", minutes=1)
    assert await texts_to("walkin") == [notice_texts.your_turn(place_name="Zen Spa", language="es")]


async def test_spanish_opt_out_and_opt_in_words_stop_and_start_texts(spa):
    with locales.speaking("es"):
        stopped, started = replies.stopped(), replies.started()
    for word in ("BAJA", "parar", "Alto."):
        assert await say("ann", word) == stopped
        assert (await Contact.get(phone=PHONES["ann"])).opted_out
        assert await say("ann", "ALTA") == started
        assert not (await Contact.get(phone=PHONES["ann"])).opted_out
    # Inside a sentence ALTO is no opt-out.
    await say("ann", "alto ahi amigo")
    assert not (await Contact.get(phone=PHONES["ann"])).opted_out
