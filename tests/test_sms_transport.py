"""The SMS Transport against a fake Twilio on loopback, through the real twilio client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.services.outbox.transport import FindsSent, HandBack, RetryLater, Undeliverable
from core.settings import Settings
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HANG,
    INVALID_TO,
    OPTED_OUT,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAVAILABLE,
    Failure,
    FakeTwilio,
)
from webhooks.sms import transport as transport_module
from webhooks.sms.pacing import NumberPacer
from webhooks.sms.transport import MAX_PACING_WAIT
from webhooks.sms.transports import twilio_sms_transport
from webhooks.sms.twilio_http import retry_after_seconds

FROM = "+15005550006"
ANN = "+14155550101"
BOB = "+14155550102"
PUBLIC = "https://waitlist.example.com"


def settings_for(fake: FakeTwilio, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "sqlite://:memory:",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM,
        "twilio_api_base_url": fake.url,
        "public_base_url": PUBLIC,
        "sms_max_per_second": 1000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def fake():
    async with FakeTwilio() as server:
        yield server


async def test_a_send_reaches_the_fake_api_with_to_from_body_and_a_keyed_status_callback(fake):
    async with twilio_sms_transport(settings_for(fake)) as transport:
        sid = await transport.send(recipient_phone=ANN, text="It's your turn", idempotency_key="k-1")

    assert sid is not None
    assert sid.startswith("SM")
    [request] = fake.requests
    assert request.authorized
    assert request.form["To"] == ANN
    assert request.form["From"] == FROM
    assert request.form["Body"] == "It's your turn"
    callback = urlsplit(request.form["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == (
        f"{PUBLIC}/webhooks/twilio/status"
    )
    assert parse_qs(callback.query) == {"key": ["k-1"]}


async def test_a_messaging_service_sends_without_a_from_number(fake):
    service = "MG" + "1" * 32
    settings = settings_for(fake, twilio_from_number=None, twilio_messaging_service_sid=service)
    async with twilio_sms_transport(settings) as transport:
        await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    [request] = fake.requests
    assert request.form["MessagingServiceSid"] == service
    assert "From" not in request.form


async def test_a_429_asks_to_retry_no_sooner_than_its_retry_after(fake):
    fake.fail_next(RATE_LIMITED)
    async with twilio_sms_transport(settings_for(fake)) as transport:
        with pytest.raises(RetryLater) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    assert caught.value.retry_after == 7.0
    assert "429" in str(caught.value)
    # A 429 is a refusal: nothing to look up before the next try.
    assert not caught.value.outcome_unknown
    assert fake.messages == []


@pytest.mark.parametrize("failure", [SERVER_ERROR, UNAVAILABLE], ids=["500", "503"])
async def test_a_server_error_asks_to_retry_and_the_client_itself_does_not(fake, failure):
    fake.fail_next(failure)
    async with twilio_sms_transport(settings_for(fake)) as transport:
        with pytest.raises(RetryLater) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    # Twilio may have queued it before failing: the outbox looks before sending again.
    assert caught.value.outcome_unknown
    # One POST: twilio's own max_retries would have posted (and maybe sent) again.
    assert len(fake.requests) == 1


async def test_a_hung_request_ends_at_the_client_timeout_and_asks_to_retry(fake):
    fake.fail_next(HANG)
    async with twilio_sms_transport(settings_for(fake), request_timeout=0.5) as transport:
        with pytest.raises(RetryLater) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    assert "unreachable" in str(caught.value)
    assert caught.value.outcome_unknown


async def test_an_unreachable_api_asks_to_retry():
    async with FakeTwilio() as gone:
        settings = settings_for(gone)
    # The fake is closed: its port refuses connections.
    async with twilio_sms_transport(settings) as transport:
        with pytest.raises(RetryLater):
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")


async def test_error_21610_is_undeliverable_because_the_recipient_opted_out(fake):
    fake.fail_next(OPTED_OUT)
    async with twilio_sms_transport(settings_for(fake)) as transport:
        with pytest.raises(Undeliverable) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    assert caught.value.opted_out is True
    assert "21610" in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [INVALID_TO, Failure(400, 21408, message="Permission to send an SMS has not been enabled")],
    ids=["21211", "21408"],
)
async def test_other_4xx_errors_are_undeliverable_without_opting_out(fake, failure):
    fake.fail_next(failure)
    async with twilio_sms_transport(settings_for(fake)) as transport:
        with pytest.raises(Undeliverable) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    assert caught.value.opted_out is False
    assert str(failure.code) in str(caught.value)


async def test_wrong_credentials_are_undeliverable_and_the_token_is_not_in_the_reason(fake):
    settings = settings_for(fake, twilio_auth_token="a-different-auth-token-99")
    async with twilio_sms_transport(settings) as transport:
        with pytest.raises(Undeliverable) as caught:
            await transport.send(recipient_phone=ANN, text="hi", idempotency_key="k-1")

    assert "401" in str(caught.value)
    assert "a-different-auth-token-99" not in str(caught.value)


async def test_non_ascii_text_arrives_intact(fake):
    text = "Ваша очередь: café 🙂"
    async with twilio_sms_transport(settings_for(fake)) as transport:
        await transport.send(recipient_phone=ANN, text=text, idempotency_key="k-1")

    assert fake.bodies == [text]


async def test_sends_from_one_number_are_spaced_by_the_configured_rate(fake):
    # A lower bound only: pacing guarantees the gaps, however fast the machine.
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()
    async with twilio_sms_transport(settings_for(fake, sms_max_per_second=5)) as transport:

        async def send(n: int) -> None:
            await transport.send(recipient_phone=ANN, text=f"m{n}", idempotency_key=f"k-{n}")
            arrivals.append(loop.time())

        start = loop.time()
        await asyncio.gather(*(send(n) for n in range(4)))

    assert len(fake.messages) == 4
    # Four sends at 5 a second: the last may leave no sooner than 3 intervals in.
    assert max(arrivals) - start >= 3 * 0.2 - 0.01


async def test_the_http_session_is_closed_when_the_transport_context_ends(fake):
    async with twilio_sms_transport(settings_for(fake)) as transport:
        http = transport._client.http_client
        assert not http.session.closed
    assert http.session.closed


async def test_the_transport_refuses_settings_without_a_from_number_or_service(fake):
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        async with twilio_sms_transport(settings_for(fake, twilio_from_number=None)):
            pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_the_pacer_queues_concurrent_sends_one_interval_apart():
    clock = FakeClock()
    pacer = NumberPacer(2.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await pacer.take_turn("+15005550006", max_wait=MAX_PACING_WAIT)

    # A little over 1/rate apart (core.rules.pacing.ARRIVAL_MARGIN).
    assert clock.slept == pytest.approx([0.525, 1.05])


async def test_the_pacer_keeps_separate_numbers_independent():
    clock = FakeClock()
    pacer = NumberPacer(1.0, clock=clock, sleep=clock.sleep)
    await pacer.take_turn("+15005550006", max_wait=MAX_PACING_WAIT)
    await pacer.take_turn("+15005550007", max_wait=MAX_PACING_WAIT)

    assert clock.slept == []


async def test_the_pacer_hands_a_long_wait_back_to_the_outbox_without_taking_a_slot():
    clock = FakeClock()
    pacer = NumberPacer(1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await pacer.take_turn("n", max_wait=2.2)  # slots at 100, 101.05, 102.1
    # Handed back untried: the outbox does not count it as a failed attempt.
    with pytest.raises(HandBack) as caught:
        await pacer.take_turn("n", max_wait=2.2)  # would be 103.15: 3.15 s away
    assert caught.value.retry_after == pytest.approx(3.15)

    clock.now = 101.5
    await pacer.take_turn("n", max_wait=2.2)  # the refused call did not push the queue back
    assert clock.slept[-1] == pytest.approx(1.65)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), ("999999", 3600.0), ("soon", None), (None, None)],
)
def test_retry_after_reads_seconds_and_caps_them(header, expected):
    assert retry_after_seconds(header) == expected


def test_retry_after_reads_an_http_date():
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(later, now=now) == 30.0


# Looking up what Twilio already has (find_sent) ---------------------------------------


def a_while_ago() -> datetime:
    # Twilio's timestamps have whole seconds.
    return datetime.now(UTC) - timedelta(seconds=5)


async def test_the_sms_transport_can_look_up_what_it_sent(fake):
    async with twilio_sms_transport(settings_for(fake)) as transport:
        assert isinstance(transport, FindsSent)


async def test_find_sent_finds_the_message_twilio_accepted_for_that_phone_and_text(fake):
    since = a_while_ago()
    async with twilio_sms_transport(settings_for(fake)) as transport:
        sid = await transport.send(recipient_phone=ANN, text="your turn", idempotency_key="k-1")
        await transport.send(recipient_phone=ANN, text="you're next", idempotency_key="k-2")
        await transport.send(recipient_phone=BOB, text="your turn", idempotency_key="k-3")

        found = await transport.find_sent(
            recipient_phone=ANN, text="your turn", idempotency_key="k-1", since=since
        )
        nothing = await transport.find_sent(
            recipient_phone=ANN, text="see you", idempotency_key="k-4", since=since
        )

    assert found == [sid]
    assert nothing == []
    # Read by To and From, with no DateSent filter (see find_sent).
    lookup = fake.lookups[0]
    assert (lookup["To"], lookup["From"]) == (ANN, FROM)
    assert not any(name.startswith("DateSent") for name in lookup)
    assert len(fake.requests) == 3  # lookups are GETs: nothing more was sent


async def test_find_sent_ignores_messages_from_before_the_attempt(fake):
    async with twilio_sms_transport(settings_for(fake)) as transport:
        await transport.send(recipient_phone=ANN, text="your turn", idempotency_key="k-1")
        later = datetime.now(UTC) + timedelta(seconds=5)
        found = await transport.find_sent(
            recipient_phone=ANN, text="your turn", idempotency_key="k-2", since=later
        )

    assert found == []


async def test_find_sent_finds_a_message_still_queued_at_twilio(fake):
    # Queued behind a busy number: no DateSent yet, which a DateSent filter would miss.
    fake.hold_in_queue = True
    since = a_while_ago()
    async with twilio_sms_transport(settings_for(fake)) as transport:
        sid = await transport.send(recipient_phone=ANN, text="your turn", idempotency_key="k-1")
        found = await transport.find_sent(
            recipient_phone=ANN, text="your turn", idempotency_key="k-1", since=since
        )

    assert found == [sid]


async def test_find_sent_reads_past_the_first_page_oldest_match_first(fake, monkeypatch):
    monkeypatch.setattr(transport_module, "LOOKUP_PAGE_SIZE", 2)
    since = a_while_ago()
    async with twilio_sms_transport(settings_for(fake)) as transport:
        first = await transport.send(recipient_phone=ANN, text="your turn", idempotency_key="a")
        for n in range(4):
            await transport.send(recipient_phone=ANN, text=f"other {n}", idempotency_key=f"o{n}")
        found = await transport.find_sent(
            recipient_phone=ANN, text="your turn", idempotency_key="a", since=since
        )

    assert found == [first]
    assert len(fake.lookups) == 3  # five messages, two a page


async def test_find_sent_through_a_messaging_service_matches_the_service(fake):
    service = "MG" + "1" * 32
    settings = settings_for(fake, twilio_from_number=None, twilio_messaging_service_sid=service)
    since = a_while_ago()
    async with twilio_sms_transport(settings) as transport:
        sid = await transport.send(recipient_phone=ANN, text="your turn", idempotency_key="k-1")
        found = await transport.find_sent(
            recipient_phone=ANN, text="your turn", idempotency_key="k-1", since=since
        )

    assert found == [sid]
    assert "From" not in fake.lookups[0]


async def test_find_sent_that_cannot_reach_twilio_asks_to_retry_rather_than_answer():
    async with FakeTwilio() as gone:
        settings = settings_for(gone)
    async with twilio_sms_transport(settings) as transport:
        with pytest.raises(RetryLater):
            await transport.find_sent(
                recipient_phone=ANN, text="hi", idempotency_key="k-1", since=a_while_ago()
            )


async def test_find_sent_refused_by_twilio_asks_to_retry_rather_than_answer(fake):
    async with twilio_sms_transport(settings_for(fake, twilio_auth_token="wrong")) as transport:
        with pytest.raises(RetryLater) as caught:
            await transport.find_sent(
                recipient_phone=ANN, text="hi", idempotency_key="k-1", since=a_while_ago()
            )

    assert "lookup failed" in str(caught.value)


async def test_the_fakes_date_sent_filters_are_date_granular_and_skip_queued_messages(fake):
    async with twilio_sms_transport(settings_for(fake)) as transport:
        await transport.send(recipient_phone=ANN, text="sent", idempotency_key="k-1")
        fake.hold_in_queue = True
        await transport.send(recipient_phone=ANN, text="queued", idempotency_key="k-2")
        messages = transport._client.messages
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        on_or_after_today = await messages.list_async(to=ANN, date_sent_after=today)
        on_or_before_yesterday = await messages.list_async(
            to=ANN, date_sent_before=today - timedelta(days=1)
        )
        everything = await messages.list_async(to=ANN)

    assert [m.body for m in on_or_after_today] == ["sent"]
    assert on_or_before_yesterday == []
    assert [m.body for m in everything] == ["queued", "sent"]  # newest first
    assert everything[0].date_sent is None
    assert everything[1].date_created is not None
