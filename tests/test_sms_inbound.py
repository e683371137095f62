"""Inbound SMS: redeliveries, floods, odd bodies, carrier keywords, the provider's number."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core import db
from core.locales import say
from core.models import Contact, InboundMessage, InboundRate, ServiceAccount
from core.rules.days import utcnow
from core.rules.gsm import fits_one_segment
from core.rules.optout import Keyword, carrier_keyword
from core.services import contacts
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    OUR_NUMBER,
    PROVIDER_PHONE,
    RecordingEngine,
    replies_in,
    sms_fixture,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from webhooks.state import INBOX

SID = "SM" + "f" * 32


async def test_ten_deliveries_of_one_message_have_one_effect_and_the_same_reply(sms):
    answers = [await replies_in(await sms.text(ANN, "join SPA", sid=SID)) for _ in range(10)]

    assert answers == [["Got it."]] * 10
    assert len(sms.engine.calls) == 1
    assert await InboundMessage.filter(external_id=SID).count() == 1


class SlowEngine(RecordingEngine):
    async def __call__(self, **kwargs):  # type: ignore[override]
        reply = await super().__call__(**kwargs)
        await asyncio.sleep(0.3)
        return reply


async def test_ten_concurrent_deliveries_wait_for_the_first_and_repeat_its_reply(sms):
    engine = SlowEngine(reply="You are number 1 in line.")
    sms.client.app[INBOX].engine = engine

    responses = await asyncio.gather(*(sms.text(ANN, "join", sid=SID) for _ in range(10)))

    answers = [await replies_in(r) for r in responses]
    assert answers == [["You are number 1 in line."]] * 10
    assert len(engine.calls) == 1


async def test_a_redelivered_stop_changes_nothing_more(sms):
    for _ in range(3):
        assert await replies_in(await sms.text(ANN, "STOP", sid=SID)) == []
    assert await contacts.is_opted_out(phone=ANN)
    assert await Contact.filter(phone=ANN).count() == 1


async def test_a_flood_gets_one_slow_down_then_silence_and_other_phones_are_unaffected(sms):
    answers = [await replies_in(await sms.text(ANN, f"status {n}")) for n in range(25)]

    assert answers[:20] == [["Got it."]] * 20
    assert answers[20] == [say("slow_down_sms")]
    assert answers[21:] == [[]] * 4
    assert len(sms.engine.calls) == 20
    # Bob is not slowed by Ann's flood.
    assert await replies_in(await sms.text(BOB, "status")) == ["Got it."]
    assert sms.engine.calls[-1]["phone"] == BOB


async def test_once_the_window_has_passed_a_flooder_is_answered_again(sms):
    for n in range(22):
        await sms.text(ANN, f"status {n}")
    assert await replies_in(await sms.text(ANN, "status")) == []

    # Let a minute pass since Ann's window opened.
    rate = await InboundRate.get(phone=ANN)
    rate.window_start = rate.window_start - timedelta(seconds=61)
    await rate.save(update_fields=["window_start"])

    assert await replies_in(await sms.text(ANN, "status")) == ["Got it."]


async def test_the_limit_comes_from_settings(aiohttp_client, database_url, twilio_api):
    sms = await start_sms(
        aiohttp_client,
        sms_settings(database_url, twilio_api.url, inbound_per_minute=2),
        twilio_api,
        engine=RecordingEngine(),
    )
    answers = [await replies_in(await sms.text(ANN, "status")) for _ in range(4)]

    assert answers == [["Got it."], ["Got it."], [say("slow_down_sms")], []]


async def test_stop_is_recorded_even_from_a_phone_that_is_being_rate_limited(sms):
    for n in range(22):
        await sms.text(ANN, f"status {n}")

    assert await replies_in(await sms.text(ANN, "stop")) == []
    assert await contacts.is_opted_out(phone=ANN)


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "stop",
        " Stop. ",
        "cancel!",
    ],
)
async def test_a_carrier_opt_out_word_records_the_opt_out_and_answers_nothing(sms, word):
    response = await sms.text(ANN, word)

    # Twilio itself answers STOP-type words, and refuses our reply with 21610.
    assert await replies_in(response) == []
    assert await contacts.is_opted_out(phone=ANN)
    assert sms.engine.calls == []


@pytest.mark.parametrize("word", ["START", "unstop", "Start."])
async def test_start_or_unstop_opts_back_in_and_twilio_does_the_answering(sms, word):
    await sms.text(ANN, "STOP")
    response = await sms.text(ANN, word)

    assert await replies_in(response) == []
    assert not await contacts.is_opted_out(phone=ANN)
    assert sms.engine.calls == []


async def test_yes_opts_back_in_and_still_reaches_the_engine_as_an_answer(sms):
    await sms.text(ANN, "STOP")
    response = await sms.text(ANN, "yes")

    assert await replies_in(response) == ["Got it."]
    assert not await contacts.is_opted_out(phone=ANN)
    assert [call["text"] for call in sms.engine.calls] == ["yes"]


async def test_a_sentence_containing_stop_is_not_a_carrier_keyword(sms):
    await replies_in(await sms.text(ANN, "please stop the queue"))

    assert not await contacts.is_opted_out(phone=ANN)
    assert [call["text"] for call in sms.engine.calls] == ["please stop the queue"]


async def test_a_body_of_1600_characters_reaches_the_engine_whole(sms):
    body = "join " + "x" * 1595
    answers = await replies_in(await sms.text(ANN, body))

    assert sms.engine.calls[0]["text"] == body
    assert answers == ["Got it."]


async def test_a_longer_body_is_cut_to_1600_characters_with_a_polite_note(sms):
    body = "status " + "y" * 3000
    answers = await replies_in(await sms.text(ANN, body))

    assert sms.engine.calls[0]["text"] == body[:1600]
    assert answers == [f"Got it.\n{say('sms_cut')}"]


async def test_non_ascii_bodies_and_replies_pass_through_intact(sms):
    sms.engine.reply = "Ça marche — vous êtes n° 2 <maintenant> & bientôt"
    text = "Привет! ¿Puedo unirme? 🙂 日本語"
    answers = await replies_in(await sms.text(ANN, text))

    assert sms.engine.calls[0]["text"] == text
    assert answers == [sms.engine.reply]


@pytest.mark.parametrize("body", ["", "   "])
async def test_an_empty_body_still_gets_an_answer(sms, body):
    answers = await replies_in(await sms.text(ANN, body))

    assert answers == ["Got it."]
    assert sms.engine.calls[0]["text"] == body


async def test_a_message_without_a_body_field_is_treated_as_empty(sms):
    from tests.fakes.twilio_api import inbound_form

    form = inbound_form(sid=SID, sender=ANN, to=OUR_NUMBER, body="")
    del form["Body"]
    answers = await replies_in(await sms.twilio.post("/webhooks/twilio/sms", form))

    assert answers == ["Got it."]
    assert sms.engine.calls[0]["text"] == ""


async def test_a_text_to_a_providers_own_number_makes_that_provider_the_default(sms):
    await ServiceAccount.create(name="Serene Spa", phone=PROVIDER_PHONE)

    await sms.text(ANN, "join", to=PROVIDER_PHONE)
    await sms.text(ANN, "join", to=OUR_NUMBER)
    await sms.text(ANN, "join", to="+13105550000")

    defaults = [call["default_provider_phone"] for call in sms.engine.calls]
    assert defaults == [PROVIDER_PHONE, None, None]


async def test_the_sender_phone_reaches_the_engine_normalised(sms):
    await sms.text("+1 (415) 555-0101", "status")

    assert sms.engine.calls[0]["phone"] == ANN
    assert (await InboundMessage.first()).phone == ANN


async def test_an_engine_failure_still_gets_a_polite_twiml_reply_and_is_recorded(sms):
    sms.engine.fail = True

    first = await replies_in(await sms.text(ANN, "join", sid=SID))
    again = await replies_in(await sms.text(ANN, "join", sid=SID))

    assert first == again == [say("sorry")]
    assert len(sms.engine.calls) == 1


async def test_an_empty_engine_reply_is_replaced_by_a_polite_one(sms):
    sms.engine.reply = ""

    assert await replies_in(await sms.text(ANN, "join")) == [say("sorry")]


async def test_the_real_engine_is_wired_in_by_default(aiohttp_client, database_url, twilio_api):
    sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )

    answers = await replies_in(await sms.text(ANN, "help"))

    assert len(answers) == 1
    assert answers[0].strip()


async def test_status_by_sms_shows_every_change_of_the_line_in_the_next_answer(
    aiohttp_client, database_url, twilio_api
):
    """The delivery, who is writing and the spot are read together; repeated STATUS
    texts are answered from the line's ranking while the line stands still."""
    from core.services import booking, calling, service_accounts, status_changes, users
    from webhooks.state import RANKS

    sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )
    spa = "+12025550179"
    await service_accounts.create_service_account(phone=spa, name="Zen Spa", code="SPA")
    booked = []
    for phone, name in ((BOB, "Bob Chen"), ("+14155550103", "Cy Dunn"), (ANN, "Ann Bell")):
        await users.create_user(name=name, phone=phone)
        booked.append(
            await booking.book(
                user_phone=phone, service_account_phone=spa,
                appointment_date=utcnow().date(), duration_minutes=15,
            )
        )

    async def status() -> str:
        [answer] = await replies_in(await sms.text(ANN, "status"))
        return answer

    for _ in range(3):
        assert "#3, 2 ahead" in await status()
    # The app's rankings: the second read ranked the line, the third was answered from it.
    ranks = sms.client.app[RANKS]
    assert (ranks.loads, ranks.hits) == (1, 1)
    await status_changes.cancel(appointment_id=booked[0].id)
    assert "#2, 1 ahead" in await status()
    await calling.call_next(service_account_phone=spa)
    assert "#1, 0 ahead" in await status()
    await calling.call_next(service_account_phone=spa)
    assert "your turn" in (await status()).lower()


def test_the_channels_own_replies_fit_one_gsm7_segment():
    for text in (say("slow_down_sms"), say("sorry"), say("sms_cut")):
        assert fits_one_segment(text), text


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", Keyword.OPT_OUT),
        ("  quit!", Keyword.OPT_OUT),
        ("Unstop", Keyword.OPT_IN),
        ("yes.", Keyword.OPT_IN_ANSWER),
        ("stop it", None),
        ("leave", None),
        ("", None),
    ],
)
def test_carrier_keywords_are_whole_messages_ignoring_case_and_end_punctuation(text, keyword):
    assert carrier_keyword(text) is keyword


async def test_a_phones_flood_keeps_one_counter_row_however_long_it_lasts(sms):
    for n in range(30):
        await sms.text(ANN, f"status {n}")
    await sms.text(BOB, "status")

    rows = await InboundRate.all().order_by("phone").values_list("phone", "seen")
    assert rows == [(ANN, 30), (BOB, 1)]


async def test_every_reply_given_is_stored_by_the_time_the_server_has_stopped(
    aiohttp_client, database_url, twilio_api
):
    sms = await start_sms(
        aiohttp_client,
        sms_settings(database_url, twilio_api.url),
        twilio_api,
        engine=RecordingEngine(),
    )
    sids = [f"SM{n:032d}" for n in range(5)]
    for sid in sids:
        assert await replies_in(await sms.text(ANN, "status", sid=sid)) == ["Got it."]

    await sms.client.close()

    ctx = await db.start(database_url)
    try:
        stored = await InboundMessage.filter(external_id__in=sids).values_list("reply", flat=True)
    finally:
        await ctx.close_connections()
    assert stored == ["Got it."] * 5


@pytest.mark.parametrize(
    "text",
    [None, "", "Got it.", 'a & <b> "c" \'d\' é', "line\nbreak", "]]> <!-- -->", "€ 😀 ✓"],
)
def test_our_twiml_is_what_twilios_messaging_response_writes(text):
    from twilio.twiml.messaging_response import MessagingResponse

    from webhooks.sms.routes import twiml_text

    reference = MessagingResponse()
    if text:
        reference.message(text)
    assert twiml_text(text) == str(reference)
