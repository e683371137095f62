"""Proactive messages over Telegram: the outbox transport, blocked users, flood control, pacing."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import pytest

from core.locales import say
from core.models import Appointment, Channel, OutboxMessage, OutboxStatus, Status, TelegramLink
from core.rules.days import utcnow
from core.services import booking, contacts, service_accounts, users
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.transport import HandBack, RetryLater, Undeliverable
from tests.telegram_support import (  # noqa: F401 (fixtures)
    bot,
    enqueue,
    make_provider,
    telegram_api,
)
from webhooks.telegram.outbound import TelegramTransport
from webhooks.telegram.pacing import BotPacer

ANN = "+14155550101"


def unpaced_transport(bot) -> TelegramTransport:
    return TelegramTransport(bot.channel.application.bot, BotPacer(per_chat_interval=0))


async def linked(bot, phone=ANN):
    await users.create_user(name="Ann Lee", phone=phone)
    person = bot.user(phone)
    await person.links()
    return person


async def test_a_proactive_message_goes_to_the_linked_chat_with_buttons(bot):
    ann = await linked(bot)
    message_id = await unpaced_transport(bot).send(
        recipient_phone=ANN, text="It's your turn at Serene Spa!", idempotency_key="k1"
    )
    call = bot.api.last(ann.chat_id)
    assert call.params["text"] == "It's your turn at Serene Spa!"
    assert message_id == str(call.result_id)
    assert set(ann.buttons(call)) == {say("tg_join"), say("tg_help")}


async def test_a_notice_to_a_customer_in_line_has_the_in_line_buttons(bot):
    ann = await linked(bot)
    await service_accounts.create_service_account(phone="+14155550100", name="Serene Spa")
    await booking.book(
        user_phone=ANN, service_account_phone="+14155550100", appointment_date=utcnow().date()
    )
    await unpaced_transport(bot).send(
        recipient_phone=ANN, text="You're next at Serene Spa.", idempotency_key="k2"
    )
    assert set(ann.buttons(bot.api.last(ann.chat_id))) == {say("tg_status"), say("tg_late"), say("tg_why"), say("tg_leave"), say("tg_join")}


async def test_a_notice_to_a_provider_has_the_provider_console(bot):
    await service_accounts.create_service_account(phone="+14155550100", name="Serene Spa")
    spa = bot.user("+14155550100")
    await spa.links()
    await unpaced_transport(bot).send(
        recipient_phone="+14155550100", text="Ann is on her way.", idempotency_key="k3"
    )
    assert set(spa.buttons(bot.api.last(spa.chat_id))) == {
        say("tg_next"),
        say("tg_done"),
        say("tg_no_show"),
        say("tg_queue"),
        say("tg_undo"),
        say("tg_close"),
        say("tg_open"),
        say("tg_delay"),
        say("tg_on_time"),
    }


async def test_a_phone_without_a_linked_chat_is_undeliverable(bot):
    with pytest.raises(Undeliverable):
        await unpaced_transport(bot).send(recipient_phone=ANN, text="hi", idempotency_key="k")
    assert bot.api.sent() == []


async def test_a_user_who_blocked_the_bot_is_marked_unreachable_and_not_retried(bot):
    ann = await linked(bot)
    bot.api.block(ann.chat_id)
    await enqueue(ANN, "You're next at Serene Spa.", "near:1:1")
    sends_before = len(bot.api.sent())

    dispatcher = Dispatcher({Channel.TELEGRAM: unpaced_transport(bot)}, base_backoff=0)
    await dispatcher.run_once()
    await dispatcher.run_once()

    message = await OutboxMessage.get(idempotency_key="near:1:1")
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "blocked" in message.last_error
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is False
    assert len(bot.api.sent()) == sends_before + 1
    # Later messages are not even tried: nothing reaches a chat that blocked us.
    with pytest.raises(Undeliverable):
        await unpaced_transport(bot).send(recipient_phone=ANN, text="again", idempotency_key="k2")
    assert len(bot.api.sent()) == sends_before + 1


async def test_writing_again_after_unblocking_makes_the_chat_reachable(bot):
    ann = await linked(bot)
    await TelegramLink.filter(chat_id=ann.chat_id).update(reachable=False)
    await ann.says("status")
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is True


@pytest.mark.parametrize(("status", "reachable"), [("kicked", False), ("member", True)])
async def test_telegrams_blocked_and_unblocked_notices_update_the_link(bot, status, reachable):
    ann = await linked(bot)
    await TelegramLink.filter(chat_id=ann.chat_id).update(reachable=not reachable)
    member = {"user": {"id": 7000001, "is_bot": True, "first_name": "Waitlist"}}
    update = {
        "my_chat_member": {
            "chat": ann._chat(),
            "from": ann._sender(),
            "date": 1_700_000_000,
            "old_chat_member": {**member, "status": "member" if not reachable else "kicked",
                                **({"until_date": 0} if reachable else {})},
            "new_chat_member": {**member, "status": status,
                                **({"until_date": 0} if not reachable else {})},
        }
    }
    response = await bot.deliver(update)
    assert response.status == 200
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is reachable


async def test_flood_control_is_honoured_and_the_message_waits_as_told(bot):
    ann = await linked(bot)
    bot.api.fail_next("sendMessage", status=429, retry_after=7, chat_id=ann.chat_id)
    await enqueue(ANN, "You're next at Serene Spa.", "near:2:1")
    sends_before = len(bot.api.sent())
    transport = unpaced_transport(bot)

    before = utcnow()
    await Dispatcher({Channel.TELEGRAM: transport}).run_once()

    message = await OutboxMessage.get(idempotency_key="near:2:1")
    assert message.status == OutboxStatus.PENDING
    assert (message.next_attempt_at - before).total_seconds() >= 7
    assert len(bot.api.sent()) == sends_before + 1
    # Until then this process sends nothing at all: Telegram's flood control is per bot.
    with pytest.raises(RetryLater) as held:
        await transport.send(recipient_phone=ANN, text="other", idempotency_key="k3")
    assert held.value.retry_after > 5
    assert len(bot.api.sent()) == sends_before + 1


async def test_a_retry_after_maps_to_retry_later_with_the_seconds(bot):
    await linked(bot)
    bot.api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryLater) as caught:
        await unpaced_transport(bot).send(recipient_phone=ANN, text="hi", idempotency_key="k")
    assert caught.value.retry_after == 3


async def test_a_telegram_server_error_is_retried_later(bot):
    await linked(bot)
    bot.api.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    with pytest.raises(RetryLater):
        await unpaced_transport(bot).send(recipient_phone=ANN, text="hi", idempotency_key="k")


async def test_a_chat_telegram_does_not_know_is_undeliverable_and_unlinked(bot):
    ann = await linked(bot)
    bot.api.fail_next(
        "sendMessage", status=400, retry_after=None, description="Bad Request: chat not found"
    )
    with pytest.raises(Undeliverable):
        await unpaced_transport(bot).send(recipient_phone=ANN, text="hi", idempotency_key="k")
    assert (await TelegramLink.get(chat_id=ann.chat_id)).reachable is False


async def test_opted_out_phones_get_nothing_proactive(bot):
    ann = await linked(bot)
    await contacts.set_opted_out(phone=ANN, opted_out=True)
    await enqueue(ANN, "You're next at Serene Spa.", "near:3:1")
    sends_before = len(bot.api.texts(ann.chat_id))
    await Dispatcher({Channel.TELEGRAM: unpaced_transport(bot)}).run_once()
    assert (await OutboxMessage.get(idempotency_key="near:3:1")).status == OutboxStatus.SKIPPED
    assert len(bot.api.texts(ann.chat_id)) == sends_before


async def test_the_apps_transport_is_offered_for_the_dispatcher(bot):
    from webhooks import telegram

    transport = telegram.transport_of(bot.app)
    assert transport is not None
    assert transport.channel is Channel.TELEGRAM


# Pacing, on a clock the test moves -----------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_pacing_spaces_one_chats_messages_a_second_apart():
    clock = Clock()
    pacer = BotPacer(clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await pacer.take_turn(1, max_wait=5)
    assert clock.slept == [1.0, 1.0]


async def test_pacing_lets_different_chats_go_at_thirty_a_second():
    clock = Clock()
    pacer = BotPacer(clock=clock, sleep=clock.sleep)
    for chat in range(31):
        await pacer.take_turn(chat, max_wait=5)
    assert round(clock.now - 100.0, 3) == 1.0


async def test_pacing_never_holds_a_caller_longer_than_it_allows():
    clock = Clock()
    pacer = BotPacer(clock=clock, sleep=clock.sleep)
    await pacer.pause(30)
    with pytest.raises(HandBack) as held:
        await pacer.take_turn(1, max_wait=5)
    assert held.value.retry_after == 30
    assert clock.slept == []


async def test_replies_are_held_only_by_the_overall_limit():
    clock = Clock()
    pacer = BotPacer(clock=clock, sleep=clock.sleep)
    await pacer.take_turn(1, max_wait=5)
    await pacer.take_turn(None, max_wait=5)
    assert clock.slept == [round(1 / 30, 3)]


async def test_a_reply_held_by_flood_control_is_delivered_later_through_the_outbox(bot):
    await make_provider()
    ann = await linked(bot)
    bot.api.fail_next("sendMessage", status=429, retry_after=30, chat_id=ann.chat_id)
    await ann.says("join spa")

    assert await Appointment.filter(user__phone=ANN, status=Status.ACTIVE).count() == 1
    deferred = await OutboxMessage.get(recipient=ANN)
    assert deferred.idempotency_key.startswith("telegram-reply:")
    assert (deferred.channel, deferred.status) == ("telegram", OutboxStatus.PENDING)

    await Dispatcher({Channel.TELEGRAM: unpaced_transport(bot)}).run_once()
    assert ann.last_text() == deferred.text
    assert ann.last_text().startswith("You're in line at Serene Spa today")
    assert set(ann.buttons()) == {say("tg_status"), say("tg_late"), say("tg_why"), say("tg_leave"), say("tg_join")}
