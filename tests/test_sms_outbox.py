"""Proactive SMS: the outbox dispatcher delivering through the Twilio Sender to the fake
API, its retries and give-ups, status callbacks, and a whole day run by SMS."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.models import Channel, OutboxMessage, OutboxStatus
from core.rules.days import utcnow
from core.services import contacts, service_accounts
from core.services.outbox.dispatcher import Dispatcher
from tests.fakes.twilio_api import HANG, OPTED_OUT, RATE_LIMITED, SERVER_ERROR, FakeTwilio
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from webhooks import sms
from webhooks.sms import SMS, TwilioSmsTransport
from webhooks.sms.transports import twilio_sms_transport


async def enqueue(recipient: str, text: str, key: str) -> OutboxMessage:
    return await OutboxMessage.create(
        channel=Channel.SMS.value,
        recipient=recipient,
        text=text,
        next_attempt_at=utcnow() - timedelta(seconds=1),
        idempotency_key=key,
    )


async def time_passes() -> None:
    """Make every pending message due, as if its retry delay had run out."""
    await OutboxMessage.filter(status=OutboxStatus.PENDING).update(
        next_attempt_at=utcnow() - timedelta(seconds=1)
    )


@pytest.fixture
async def transport(orm, twilio_api: FakeTwilio):
    async with twilio_sms_transport(sms_settings(orm, twilio_api.url), request_timeout=0.5) as s:
        yield s


def dispatcher_for(transport: TwilioSmsTransport, **options: object) -> Dispatcher:
    return Dispatcher({Channel.SMS: transport}, base_backoff=0.01, **options)  # type: ignore[arg-type]


async def test_pending_messages_are_sent_once_each_and_marked_sent_with_the_sid(
    transport, twilio_api
):
    for n in range(3):
        await enqueue(ANN if n % 2 else BOB, f"notice {n}", f"k-{n}")

    assert await dispatcher_for(transport).run_once() == 3
    assert await dispatcher_for(transport).run_once() == 0

    assert sorted(twilio_api.bodies) == ["notice 0", "notice 1", "notice 2"]
    assert twilio_api.duplicates == 0
    rows = await OutboxMessage.all().order_by("id")
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    sids = {m.key: m.sid for m in twilio_api.messages}
    assert [r.external_id for r in rows] == [sids["k-0"], sids["k-1"], sids["k-2"]]


async def test_a_429_is_retried_no_sooner_than_retry_after_then_sent_once(transport, twilio_api):
    twilio_api.fail_next(RATE_LIMITED)
    await enqueue(ANN, "your turn", "k-1")
    before = utcnow()

    await dispatcher_for(transport).run_once()

    row = await OutboxMessage.get(idempotency_key="k-1")
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= before + timedelta(seconds=7)
    assert "429" in (row.last_error or "")
    assert await dispatcher_for(transport).run_once() == 0  # not due yet

    await time_passes()
    await dispatcher_for(transport).run_once()

    assert (await OutboxMessage.get(idempotency_key="k-1")).status == OutboxStatus.SENT
    assert twilio_api.bodies == ["your turn"]
    assert len(twilio_api.requests) == 2


async def test_server_errors_and_hangs_are_retried_until_the_attempts_run_out(
    transport, twilio_api
):
    twilio_api.fail_next(SERVER_ERROR, HANG, SERVER_ERROR)
    await enqueue(ANN, "your turn", "k-1")
    dispatcher = dispatcher_for(transport, max_attempts=3)

    for _ in range(3):
        await dispatcher.run_once()
        await time_passes()
    assert await dispatcher.run_once() == 0

    row = await OutboxMessage.get(idempotency_key="k-1")
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 3
    assert "500" in (row.last_error or "")
    assert len(twilio_api.requests) == 3
    assert twilio_api.messages == []


async def test_a_retried_message_that_then_goes_through_is_sent_exactly_once(transport, twilio_api):
    twilio_api.fail_next(SERVER_ERROR, HANG)
    await enqueue(ANN, "your turn", "k-1")
    dispatcher = dispatcher_for(transport)

    for _ in range(3):
        await dispatcher.run_once()
        await time_passes()

    assert (await OutboxMessage.get(idempotency_key="k-1")).status == OutboxStatus.SENT
    assert twilio_api.bodies == ["your turn"]


async def test_a_message_twilio_accepted_after_the_client_gave_up_is_not_sent_twice(
    transport, twilio_api
):
    # Twilio takes the message but answers after our 0.5 s request timeout: we do not
    # know it went out. Twilio has no idempotency key, so a plain retry would text Ann
    # twice; the outbox looks it up first and records Twilio's sid.
    twilio_api.delay = 1.0
    await enqueue(ANN, "your turn", "k-1")
    dispatcher = dispatcher_for(transport)

    await dispatcher.run_once()
    row = await OutboxMessage.get(idempotency_key="k-1")
    assert row.status == OutboxStatus.PENDING
    assert row.sending_started_at is not None
    await time_passes()
    await dispatcher.run_once()

    [message] = twilio_api.messages
    assert len(twilio_api.requests) == 1
    assert len(twilio_api.lookups) == 1
    row = await OutboxMessage.get(idempotency_key="k-1")
    assert (row.status, row.external_id) == (OutboxStatus.SENT, message.sid)
    assert row.sending_started_at is None


async def test_a_server_error_before_twilio_took_the_message_is_looked_up_then_sent(
    transport, twilio_api
):
    twilio_api.fail_next(SERVER_ERROR)
    await enqueue(ANN, "your turn", "k-1")
    dispatcher = dispatcher_for(transport)

    await dispatcher.run_once()
    await time_passes()
    await dispatcher.run_once()

    assert twilio_api.bodies == ["your turn"]
    assert len(twilio_api.lookups) == 1
    assert (await OutboxMessage.get(idempotency_key="k-1")).status == OutboxStatus.SENT


async def test_a_paced_backlog_does_not_use_up_attempts(orm, twilio_api):
    # A backlog longer than the pacer will wait for is handed back to the outbox, again
    # and again, without counting as failures. (One message every 1000 s and no wait
    # at all stand in for 1/s and 20 s.)
    settings = sms_settings(orm, twilio_api.url, sms_max_per_second=0.001)
    async with twilio_sms_transport(settings) as paced:
        paced._max_pacing_wait = 0.0  # type: ignore[attr-defined]
        for n in range(3):
            await enqueue(ANN if n % 2 else BOB, f"notice {n}", f"k-{n}")
        dispatcher = dispatcher_for(paced, max_attempts=1)
        for _ in range(3):
            await dispatcher.run_once()
            await time_passes()

    rows = await OutboxMessage.all().order_by("id")
    assert [r.status for r in rows] == [OutboxStatus.SENT] + [OutboxStatus.PENDING] * 2
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert twilio_api.bodies == ["notice 0"]


async def test_error_21610_marks_the_phone_opted_out_and_later_messages_are_skipped(
    transport, twilio_api
):
    twilio_api.fail_next(OPTED_OUT)
    await enqueue(ANN, "you're next", "k-1")
    dispatcher = dispatcher_for(transport)

    await dispatcher.run_once()
    await time_passes()
    await dispatcher.run_once()

    row = await OutboxMessage.get(idempotency_key="k-1")
    assert row.status == OutboxStatus.FAILED
    assert "21610" in (row.last_error or "")
    assert await contacts.is_opted_out(phone=ANN)

    await enqueue(ANN, "your turn", "k-2")
    await dispatcher.run_once()

    assert (await OutboxMessage.get(idempotency_key="k-2")).status == OutboxStatus.SKIPPED
    assert len(twilio_api.requests) == 1


# Status callbacks -----------------------------------------------------------------------


@pytest.fixture
async def app_sms(aiohttp_client, database_url, twilio_api):
    return await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )


async def settled(key: str) -> OutboxMessage:
    """The row once delivery is over: the app's own dispatcher may be the one sending."""
    async with asyncio.timeout(30):
        while True:
            row = await OutboxMessage.get(idempotency_key=key)
            if row.status != OutboxStatus.PENDING:
                return row
            await asyncio.sleep(0.05)


async def send_one(app_sms, key: str = "k-1") -> OutboxMessage:
    await enqueue(ANN, "your turn", key)
    await dispatcher_for(app_sms.client.app[SMS].transport).run_once()
    return await settled(key)


async def test_the_app_provides_the_sms_transport_while_it_runs(app_sms):
    transport = sms.transport_of(app_sms.client.app)
    assert isinstance(transport, TwilioSmsTransport)
    session = transport._client.http_client.session

    await app_sms.client.close()

    assert sms.transport_of(app_sms.client.app) is None
    assert session.closed


@pytest.mark.parametrize(
    ("missing", "why"),
    [
        ({"twilio_account_sid": None}, "TWILIO_ACCOUNT_SID is not set"),
        ({"twilio_from_number": None}, "neither TWILIO_FROM_NUMBER nor"),
    ],
)
async def test_without_an_account_sid_or_sender_replies_work_but_outbound_is_off(
    aiohttp_client, database_url, twilio_api, caplog, missing, why
):
    caplog.set_level("INFO")
    app_sms = await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url, **missing), twilio_api,
        engine=None,
    )

    assert sms.transport_of(app_sms.client.app) is None
    assert f"outbound SMS is off: {why}" in caplog.text
    assert len(await replies_in(await app_sms.text(ANN, "help"))) == 1


async def test_a_delivered_report_leaves_the_message_sent(app_sms, twilio_api):
    row = await send_one(app_sms)
    [message] = twilio_api.messages

    response = await app_sms.twilio.status(message, "delivered")

    assert response.status == 204
    again = await OutboxMessage.get(id=row.id)
    assert again.status == OutboxStatus.SENT
    assert again.external_id == message.sid
    assert again.delivery_status == "delivered"
    assert again.delivered_at is not None


async def test_delivery_reports_are_recorded_and_a_late_earlier_one_does_not_undo_them(
    app_sms, twilio_api
):
    row = await send_one(app_sms)
    [message] = twilio_api.messages

    await app_sms.twilio.status(message, "sent")
    sent = await OutboxMessage.get(id=row.id)
    assert (sent.delivery_status, sent.delivered_at) == ("sent", None)

    await app_sms.twilio.status(message, "delivered")
    await app_sms.twilio.status(message, "sent")  # out of order, after the fact

    again = await OutboxMessage.get(id=row.id)
    assert again.delivery_status == "delivered"
    assert again.delivered_at is not None
    assert again.status == OutboxStatus.SENT


async def test_an_undelivered_report_marks_the_message_failed_with_the_carrier_error(
    app_sms, twilio_api
):
    row = await send_one(app_sms)
    [message] = twilio_api.messages

    await app_sms.twilio.status(message, "sent")
    response = await app_sms.twilio.status(message, "undelivered", error_code="30007")

    assert response.status == 204
    again = await OutboxMessage.get(id=row.id)
    assert again.status == OutboxStatus.FAILED
    assert again.last_error == "carrier: undelivered (error 30007)"
    assert (again.delivery_status, again.delivered_at) == ("undelivered", None)
    assert not await contacts.is_opted_out(phone=ANN)


async def test_a_failed_report_with_21610_opts_the_phone_out(app_sms, twilio_api):
    await send_one(app_sms)
    [message] = twilio_api.messages

    await app_sms.twilio.status(message, "failed", error_code="21610")

    assert await contacts.is_opted_out(phone=ANN)


async def test_a_report_finds_a_message_whose_sender_died_before_recording_the_sid(
    app_sms, twilio_api
):
    # The process died after Twilio accepted the message: the row is still pending and
    # knows no sid. The key in the callback URL finds it, and it is not sent again.
    row = await send_one(app_sms)
    [message] = twilio_api.messages
    await OutboxMessage.filter(id=row.id).update(
        status=OutboxStatus.PENDING, external_id=None, sent_at=None
    )

    await app_sms.twilio.status(message, "sent")
    await time_passes()
    await dispatcher_for(app_sms.client.app[SMS].transport).run_once()

    again = await OutboxMessage.get(id=row.id)
    assert again.status == OutboxStatus.SENT
    assert again.external_id == message.sid
    assert len(twilio_api.requests) == 1


async def test_a_report_about_an_unknown_message_is_accepted_and_changes_nothing(
    app_sms, twilio_api
):
    await send_one(app_sms)
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "failed", "ErrorCode": "30003"}

    response = await app_sms.twilio.post("/webhooks/twilio/status", params)

    assert response.status == 204
    assert [r.status for r in await OutboxMessage.all()] == [OutboxStatus.SENT]


async def test_a_report_without_a_status_is_a_400(app_sms):
    response = await app_sms.twilio.post("/webhooks/twilio/status", {"MessageSid": "SM1"})

    assert response.status == 400


# A day by SMS, with the real engine ------------------------------------------------------


async def test_customers_join_check_and_leave_and_the_provider_calls_next_all_by_sms(
    app_sms, twilio_api
):
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", code="SPA"
    )

    async def text(phone: str, body: str) -> str:
        [reply] = await replies_in(await app_sms.text(phone, body))
        return reply

    assert "name" in (await text(ANN, "join")).lower()
    assert "#1" in await text(ANN, "Ann Bell")
    assert "name" in (await text(BOB, "hi, can I join please?")).lower()
    assert "#2" in await text(BOB, "Bob Carter")
    assert "#2" in await text(BOB, "status")
    assert "left" in (await text(BOB, "leave")).lower()
    assert "Ann" in await text(PROVIDER_PHONE, "next")

    await dispatcher_for(app_sms.client.app[SMS].transport).run_once()

    # Ann hears it is her turn (and may have heard she was next when Bob left).
    def ann_heard_her_turn() -> bool:
        return any(
            m.to == ANN and "your turn" in m.body.lower() for m in twilio_api.messages
        )

    await twilio_api.wait_until(ann_heard_her_turn)
    assert {m.to for m in twilio_api.messages} == {ANN}
    for row in await OutboxMessage.all():
        assert (await settled(row.idempotency_key)).status == OutboxStatus.SENT
    assert twilio_api.duplicates == 0
