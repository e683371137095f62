"""Whatever anyone texts, through the real signed SMS webhook, the engine answers it
without falling back on its catch-all (which logs "engine failed" and apologises)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.locales import say
from core.models import ServiceAccount
from core.services import service_accounts, users
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)

ENGINE_LOGGER = "bot.engine"

_COMMANDS = st.sampled_from(
    [
        "join", "JOIN", "status", "leave", "cancel", "help", "queue", "next", "done",
        "DONE", "noshow", "add", "ADD", "JOIN FLT", "hi", "thanks!", "stop texting me",
        "am I next?", "spa", "SPA", "tomorrow", "fri", "24/12", "31/12/9999", "#", "+",
    ]
)
_HUGE = st.integers(min_value=2**31 - 2, max_value=10**40).map(str)
_NUMBERS = st.one_of(_HUGE, _HUGE.map("#{}".format), st.integers(-5, 5).map(str))
_JUNK = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=17, max_size=300),
    st.sampled_from(["👍", "🙂🙂", "❤️", "🇺🇸", "\u200d", "％", "１２３", "ǅ", "ß" * 20]),
)
BODIES = st.one_of(
    st.text(max_size=200),
    st.text(min_size=1000, max_size=2000),
    _NUMBERS,
    st.lists(st.one_of(_COMMANDS, _NUMBERS, _JUNK), min_size=1, max_size=6).map(" ".join),
)
SENDERS = st.sampled_from([ANN, BOB, PROVIDER_PHONE])


@pytest.fixture(name="live_sms")
async def live_sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    """The app with the real engine, a provider, a customer in its line and one not yet
    registered; no flood limit, so every text reaches the engine."""
    sms = await start_sms(
        aiohttp_client,
        sms_settings(database_url, twilio_api.url, inbound_per_minute=1_000_000),
        twilio_api,
        engine=None,
    )
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await sms.text(ANN, "join spa")
    return sms


def engine_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1
        for record in caplog.records
        if record.name == ENGINE_LOGGER and record.getMessage().startswith("engine failed")
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(st.tuples(SENDERS, BODIES), min_size=1, max_size=3))
@example(texts=[(ANN, "JOIN FLT 99999999999999999999")])
@example(texts=[(ANN, "join " + "x" * 17)])
@example(texts=[(ANN, "join the " + "Ü" * 300 + " at spa")])
@example(texts=[(PROVIDER_PHONE, "DONE #2147483648")])
@example(texts=[(PROVIDER_PHONE, "DONE 99999999999")])
@example(texts=[(PROVIDER_PHONE, "noshow " + "9" * 900)])
@example(texts=[(BOB, "join spa"), (BOB, "Ann " + "b" * 500)])
async def test_no_text_by_sms_makes_the_engine_fall_back_on_its_catch_all(
    live_sms, caplog, texts
):
    caplog.set_level(logging.ERROR, logger=ENGINE_LOGGER)
    before = engine_failures(caplog)
    for sender, body in texts:
        answers = await replies_in(await live_sms.text(sender, body))
        assert say("sorry") not in answers, body
    assert engine_failures(caplog) == before
    assert await ServiceAccount.filter(phone=PROVIDER_PHONE).exists()
