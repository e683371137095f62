"""The outbox's wake-up belongs to an app: its entry points wake its dispatcher once
their work has committed; services wake nothing, and other apps hear nothing."""

from __future__ import annotations

import asyncio

from tortoise.transactions import in_transaction

from bot.inbox import ChannelPolicy, Inbox, Message
from core.models import Channel
from core.rules.days import today_in, utcnow
from core.services import booking, calling, service_accounts, users
from core.services.deliveries import PendingReplies
from core.services.line_ranks import RankCache
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.enqueue import enqueue
from core.services.outbox.wakeup import Wakeup
from tests.api_helpers import ANN, BOB, PROVIDER, book, data_of, make_provider, make_user, today
from webhooks.app import create_app
from webhooks.state import OUTBOX_WAKEUP

# Far longer than any test waits: a message that leaves in time was woken out.
NEVER = 60.0


class Recorder:
    def __init__(self, channel: Channel = Channel.SMS) -> None:
        self.channel = channel
        self.sent: list[str] = []
        self.arrived = asyncio.Event()

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        self.sent.append(idempotency_key)
        self.arrived.set()
        return None


async def _put(key: str, to: str) -> None:
    # A phone that never wrote to us is reached by SMS.
    async with in_transaction("default") as conn:
        await enqueue(conn=conn, recipient=to, text=key, idempotency_key=key, now=utcnow())


async def _settled(*dispatchers: Dispatcher) -> None:
    for dispatcher in dispatchers:
        await dispatcher.start()
    await asyncio.sleep(0.2)  # each has polled once and waits for its wake-up


async def test_two_apps_in_one_process_do_not_wake_each_others_dispatcher(
    aiohttp_client, settings
):
    one = await aiohttp_client(create_app(settings))
    two = await aiohttp_client(create_app(settings))
    assert one.app[OUTBOX_WAKEUP] is not two.app[OUTBOX_WAKEUP]
    ann, bob = Recorder(), Recorder()
    # One dispatcher per app, each taking its own phone's messages.
    of_one = Dispatcher(
        {Channel.SMS: ann}, wakeup=one.app[OUTBOX_WAKEUP], recipient=ANN, poll_interval=NEVER
    )
    of_two = Dispatcher(
        {Channel.SMS: bob}, wakeup=two.app[OUTBOX_WAKEUP], recipient=BOB, poll_interval=NEVER
    )
    await _settled(of_one, of_two)
    try:
        await _put("for-ann", ANN)
        await _put("for-bob", BOB)

        one.app[OUTBOX_WAKEUP].wake()
        await asyncio.wait_for(ann.arrived.wait(), 2.0)
        await asyncio.sleep(0.3)
        assert bob.sent == []

        two.app[OUTBOX_WAKEUP].wake()
        await asyncio.wait_for(bob.arrived.wait(), 2.0)
    finally:
        await of_one.stop()
        await of_two.stop()
    assert (ann.sent, bob.sent) == (["for-ann"], ["for-bob"])


async def test_a_service_writes_its_notices_without_waking_any_dispatcher(orm):
    spa = await service_accounts.create_service_account(phone=PROVIDER, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await booking.book(
        user_phone=ANN, service_account_phone=PROVIDER, appointment_date=today_in(spa.timezone, now=utcnow())
    )
    wakeup, transport = Wakeup(), Recorder()
    dispatcher = Dispatcher({Channel.SMS: transport}, wakeup=wakeup, poll_interval=NEVER)
    await _settled(dispatcher)
    try:
        # The service needs no wake-up of its own and reaches for none.
        called = await calling.call_next(service_account_phone=PROVIDER)
        assert called is not None
        await asyncio.sleep(0.3)
        assert transport.sent == []

        # Its caller, the entry point, wakes the dispatcher it owns.
        wakeup.wake()
        await asyncio.wait_for(transport.arrived.wait(), 2.0)
    finally:
        await dispatcher.stop()
    assert len(transport.sent) == 1
    assert transport.sent[0].startswith(f"turn:{called.appointment.id}:")


async def test_an_admin_status_change_wakes_its_apps_dispatcher_when_it_wrote_a_notice(client):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob Ray")
    ann = await book(client, day=today().isoformat())
    await book(client, user=BOB, day=today().isoformat())
    heard = client.app[OUTBOX_WAKEUP].subscribe()
    # Ann leaves: Bob is next, and hears it.
    await data_of(await client.delete(f"/appointments/{ann['id']}"), 200)
    assert heard.is_set()


async def test_an_admin_status_change_that_wrote_no_notice_wakes_nothing(client):
    await make_provider(client)
    await make_user(client)
    booked = await book(client, day=today().isoformat())
    heard = client.app[OUTBOX_WAKEUP].subscribe()
    # The only one waiting leaves: nobody moves up, so nothing is due.
    await data_of(await client.delete(f"/appointments/{booked['id']}"), 200)
    assert not heard.is_set()


def _inbox(wakeup: Wakeup) -> Inbox:
    return Inbox(replies=PendingReplies(), per_minute=100, ranks=RankCache(), wakeup=wakeup)


def _text(phone: str, text: str, n: int) -> Message:
    return Message(
        channel=Channel.SMS, phone=phone, text=text, delivery_id=f"SMwake{n}", now=utcnow()
    )


async def test_a_message_wakes_the_dispatcher_only_when_its_answer_wrote_a_notice(orm):
    await service_accounts.create_service_account(phone=PROVIDER, name="Zen Spa")
    await users.create_user(name="Ann Bell", phone=ANN)
    await booking.book(
        user_phone=ANN, service_account_phone=PROVIDER, appointment_date=utcnow().date()
    )
    wakeup = Wakeup()
    woken = wakeup.subscribe()
    inbox = _inbox(wakeup)
    policy = ChannelPolicy(slow_down="slow down", sorry="sorry")

    status = await inbox.receive(_text(ANN, "STATUS", 1), policy=policy)
    assert "#1" in status.reply
    # A STATUS writes no message: a woken dispatcher would only run an empty claim.
    assert not woken.is_set()

    called = await inbox.receive(_text(PROVIDER, "NEXT", 2), policy=policy)
    assert "Called Ann B." in called.reply
    # NEXT wrote "It's your turn" in its transaction, committed before the wake-up.
    assert woken.is_set()


async def test_writes_inside_a_watched_block_also_count_for_the_block_around_it(orm):
    outer_wakeup, inner_wakeup = Wakeup(), Wakeup()
    outer, inner = outer_wakeup.subscribe(), inner_wakeup.subscribe()
    with outer_wakeup.after_writes():
        with inner_wakeup.after_writes():
            await _put("nested", ANN)
        assert inner.is_set()
        assert not outer.is_set()
    assert outer.is_set()
