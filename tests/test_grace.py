"""Grace periods on a real database, driven with a set clock: a called customer who
neither confirms nor is served hears one reminder at half time; at the end their spot
closes as a no-show (score and UNDO as NOSHOW's) if our "your turn" reached them, else
the provider is asked; LATE extends the period once; each timer fires once, however
many workers race for it."""

# ruff: noqa: F811 (pytest fixtures imported by name)

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import provider_replies, spot_replies
from core.models import (
    Appointment,
    Channel,
    GraceTimer,
    OutboxMessage,
    ReliabilityScore,
    ServiceAccount,
    Status,
    UndoSnapshot,
)
from core.rules import notice_texts
from core.rules.gsm import fits_one_segment
from core.rules.undo import Action, Outcome
from core.services import contacts, grace
from core.services.grace_worker import GraceWorker
from core.services.outbox.dispatcher import Dispatcher
from tests.test_engine_dialogues import (  # noqa: F401 (fixtures)
    NOW,
    PHONES,
    say,
    spa,
)


class Recorder:
    """An SMS transport that takes every message, as a phone that gets it would."""

    channel = Channel.SMS

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        self.sent.append((recipient_phone, text))
        return None


async def deliver(minutes: float) -> None:
    """Send what the outbox holds, at NOW + `minutes`."""
    dispatcher = Dispatcher(
        {Channel.SMS: Recorder()}, max_age=None, clock=lambda: NOW + timedelta(minutes=minutes)
    )
    await dispatcher.run_once()


async def fire(minutes: float) -> int:
    return await grace.fire_due(now=NOW + timedelta(minutes=minutes))


async def texts_to(who: str) -> list[str]:
    return list(
        await OutboxMessage.filter(recipient=PHONES[who]).order_by("id").values_list(
            "text", flat=True
        )
    )


async def spot_of(who: str) -> Appointment:
    return await Appointment.filter(user__phone=PHONES[who]).order_by("-id").first()


async def set_spa(**values: object) -> None:
    await ServiceAccount.filter(phone=PHONES["spa"]).update(**values)


async def called_and_told(*, at: float = 1) -> None:
    """Ann waits, is called at NOW + `at`, and our "your turn" reaches her phone."""
    await say("ann", "join")
    await say("spa", "next", minutes=at)
    await deliver(at)


REMINDER = notice_texts.grace_reminder(place_name="Zen Spa")
CLOSED = notice_texts.grace_closed(place_name="Zen Spa", minutes="15")
NO_SHOW = notice_texts.grace_no_show(name="Ann Bell", phone=PHONES["ann"], minutes="15")
ASK = notice_texts.grace_ask(name="Ann Bell", phone=PHONES["ann"], minutes="15")


async def test_a_call_gets_a_reminder_at_half_time_and_an_expiry_at_the_end(spa):
    await called_and_told()
    timers = await GraceTimer.all().order_by("due_at")
    called_at = (await spot_of("ann")).called_at
    assert [(t.kind, t.due_at, t.called_at) for t in timers] == [
        ("reminder", called_at + timedelta(minutes=7.5), called_at),
        ("expiry", called_at + timedelta(minutes=15), called_at),
    ]


async def test_with_grace_zero_a_call_writes_no_timer_and_nothing_ever_fires(spa):
    await set_spa(grace_minutes=0)
    await called_and_told()
    assert await GraceTimer.all().count() == 0
    assert await fire(600) == 0
    assert (await spot_of("ann")).status is Status.ACTIVE


async def test_the_reminder_comes_once_at_half_time_and_not_before(spa):
    await called_and_told()
    assert await fire(8) == 0  # due at 8.5
    assert REMINDER not in await texts_to("ann")
    assert await fire(9) == 1
    assert await fire(10) == 0
    assert (await texts_to("ann")).count(REMINDER) == 1
    assert fits_one_segment(REMINDER)


async def test_at_expiry_a_reached_customer_is_a_no_show_with_the_penalty_and_told(spa):
    await called_and_told()
    assert await fire(15.9) == 1  # the reminder only
    assert (await spot_of("ann")).status is Status.ACTIVE
    assert await fire(16) == 1
    ann = await spot_of("ann")
    assert ann.status is Status.NO_SHOW
    assert ann.status_changed_at == NOW + timedelta(minutes=16)
    score = await ReliabilityScore.get(user__phone=PHONES["ann"])
    assert score.no_shows == pytest.approx(1.0)
    snapshots = await UndoSnapshot.all().values_list("action", flat=True)
    assert snapshots == [Action.NEXT.value, Action.AUTO_NOSHOW.value]
    assert CLOSED in await texts_to("ann")
    assert await texts_to("spa") == [NO_SHOW]
    for text in (CLOSED, NO_SHOW):
        assert fits_one_segment(text)


async def test_a_customer_who_confirmed_is_never_closed_nor_reminded(spa):
    await called_and_told()
    await say("ann", "here", minutes=2)
    assert await fire(600) == 2
    ann = await spot_of("ann")
    assert (ann.status, ann.confirmed_at is not None) == (Status.ACTIVE, True)
    assert REMINDER not in await texts_to("ann")
    assert not [t for t in await texts_to("spa") if "confirm" in t]


async def test_a_customer_served_before_expiry_is_left_as_served(spa):
    await called_and_told()
    await say("spa", "done", minutes=5)
    await fire(600)
    assert (await spot_of("ann")).status is Status.COMPLETED
    assert REMINDER not in await texts_to("ann")
    assert await UndoSnapshot.filter(action=Action.AUTO_NOSHOW.value).count() == 0


async def test_when_our_turn_notice_was_never_sent_the_provider_is_asked_and_nothing_closes(spa):
    await say("ann", "join")
    await say("spa", "next", minutes=1)
    # No delivery: the "your turn" is still in the outbox at expiry.
    await fire(16)
    assert (await spot_of("ann")).status is Status.ACTIVE
    assert await texts_to("spa") == [ASK]
    assert fits_one_segment(ASK)
    assert await UndoSnapshot.filter(action=Action.AUTO_NOSHOW.value).count() == 0
    assert await ReliabilityScore.filter(user__phone=PHONES["ann"]).count() == 0


@pytest.mark.parametrize("how", ["opted_out", "undelivered", "failed"])
async def test_an_unreachable_customer_is_not_closed_the_provider_is_asked(spa, how):
    await called_and_told()
    if how == "opted_out":
        await contacts.set_opted_out(phone=PHONES["ann"], opted_out=True, now=NOW)
    else:
        # The carrier's report after it accepted the message.
        await OutboxMessage.filter(idempotency_key__startswith="turn:").update(
            delivery_status=how
        )
    await fire(16)
    assert (await spot_of("ann")).status is Status.ACTIVE
    assert await texts_to("spa") == [ASK]


async def test_undo_after_an_automatic_no_show_puts_the_customer_back_and_the_score(spa):
    await called_and_told()
    before = await spot_of("ann")
    await fire(16)
    reply = await say("spa", "undo", minutes=17)
    assert reply.startswith("Undone the no-show: Ann B. (***0101) is called again")
    after = await spot_of("ann")
    assert (after.status, after.called_at, after.status_changed_at) == (
        Status.ACTIVE, before.called_at, before.status_changed_at,
    )
    assert await ReliabilityScore.filter(user__phone=PHONES["ann"]).count() == 0


async def test_a_customer_told_their_spot_closed_hears_it_reopened_after_the_undo(spa):
    await called_and_told()
    await fire(16)
    closed = notice_texts.grace_closed(place_name="Zen Spa", minutes="15")
    assert (await texts_to("ann"))[-1] == closed
    await say("spa", "undo", minutes=17)
    assert (await texts_to("ann"))[-1] == notice_texts.turn_reopened(place_name="Zen Spa")


async def test_a_manual_noshow_undone_tells_the_customer_nothing(spa):
    await called_and_told()
    await say("spa", "noshow", minutes=5)
    told = await texts_to("ann")
    await say("spa", "undo", minutes=6)
    assert await texts_to("ann") == told


async def test_auto_call_next_calls_the_next_person_and_says_undo_reverts_that_call(spa):
    await set_spa(auto_call_next=True)
    await say("bob", "join")
    await called_and_told()  # Bob joined first: he is called
    await say("ann", "status", minutes=1)
    await fire(16)
    assert (await spot_of("bob")).status is Status.NO_SHOW
    ann = await spot_of("ann")
    assert ann.called_at == NOW + timedelta(minutes=16)
    # The automatic call gave Ann a grace period of her own.
    assert await GraceTimer.filter(appointment_id=ann.id, fired_at__isnull=True).count() == 2
    told = notice_texts.grace_no_show_called_next(
        name="Bob Carter", phone=PHONES["bob"], minutes="15",
        next_name="Ann Bell", next_phone=PHONES["ann"],
    )
    assert (await texts_to("spa"))[-1] == told
    assert fits_one_segment(told)
    assert notice_texts.your_turn(place_name="Zen Spa") in await texts_to("ann")

    # What the notice says UNDO does is what it does: Ann's call goes, Bob's no-show stays.
    reply = await say("spa", "undo", minutes=17)
    assert reply.startswith("Undone NEXT: Ann B. (***0101) is back in line at #1")
    assert (await spot_of("bob")).status is Status.NO_SHOW
    assert (await spot_of("ann")).called_at is None
    # Ann's timers belong to the undone call: they do nothing.
    await fire(600)
    assert (await spot_of("ann")).status is Status.ACTIVE


async def test_auto_call_next_with_nobody_left_waiting_just_reports_the_no_show(spa):
    await set_spa(auto_call_next=True)
    await called_and_told()
    await fire(16)
    assert await texts_to("spa") == [NO_SHOW]


async def test_a_call_undone_and_made_again_fires_only_the_new_calls_timers(spa):
    await say("ann", "join")
    await say("spa", "next", minutes=1)
    await say("spa", "undo", minutes=2)
    await say("spa", "next", minutes=10)
    await deliver(10)
    await fire(17)  # the first call's expiry (16) and reminder: nothing
    assert (await spot_of("ann")).status is Status.ACTIVE
    assert REMINDER not in await texts_to("ann")
    await fire(18)  # the new call's reminder, due at 17.5
    assert (await texts_to("ann")).count(REMINDER) == 1
    # The new call's own "your turn", after "back in line".
    assert (await texts_to("ann"))[-2] == notice_texts.your_turn(place_name="Zen Spa")
    await fire(25)
    assert (await spot_of("ann")).status is Status.NO_SHOW
    assert await UndoSnapshot.filter(action=Action.AUTO_NOSHOW.value).count() == 1


async def test_late_from_the_called_customer_extends_the_grace_period_once(spa):
    await called_and_told()  # called at 15:01: reminder 15:08:30, expiry 15:16
    reply = await say("ann", "late 10", minutes=3)
    assert reply == spot_replies.late_held(place_name="Zen Spa", until="15:26")
    assert fits_one_segment(reply)
    again = await say("ann", "late 10", minutes=4)
    assert again == spot_replies.late_held_once(place_name="Zen Spa")
    assert fits_one_segment(again)
    # The provider hears of the lateness once.
    late = notice_texts.running_late(name="Ann Bell", phone=PHONES["ann"], minutes=10)
    assert await texts_to("spa") == [late]

    assert await fire(18) == 0  # reminder now due at 18.5, expiry at 26
    assert await fire(19) == 1
    assert (await texts_to("ann")).count(REMINDER) == 1
    assert await fire(25.9) == 0
    assert (await spot_of("ann")).status is Status.ACTIVE
    assert await fire(26) == 1
    assert (await spot_of("ann")).status is Status.NO_SHOW
    # The notice gives the period Ann really had.
    assert (await texts_to("spa"))[-1] == notice_texts.grace_no_show(
        name="Ann Bell", phone=PHONES["ann"], minutes="25"
    )


async def test_late_from_a_customer_who_confirmed_holds_nothing_it_only_tells_the_provider(spa):
    await called_and_told()
    await say("ann", "here", minutes=2)
    assert await say("ann", "late 10", minutes=3) == spot_replies.late_when_called(
        place_name="Zen Spa"
    )
    assert await GraceTimer.filter(extended_at__isnull=False).count() == 0


async def test_late_from_a_called_customer_without_grace_only_tells_the_provider(spa):
    await set_spa(grace_minutes=0)
    await called_and_told()
    assert await say("ann", "late 10", minutes=3) == spot_replies.late_when_called(
        place_name="Zen Spa"
    )


async def test_a_fractional_grace_is_honoured_and_written_as_people_read_it(spa):
    await set_spa(grace_minutes=0.5)
    await called_and_told()
    await fire(1.2)
    assert (await spot_of("ann")).status is Status.ACTIVE
    await fire(1.5)
    assert (await spot_of("ann")).status is Status.NO_SHOW
    assert await texts_to("spa") == [
        notice_texts.grace_no_show(name="Ann Bell", phone=PHONES["ann"], minutes="0.5")
    ]


async def test_workers_racing_for_the_same_timers_fire_each_once(spa):
    await called_and_told()
    counts = await asyncio.gather(*(fire(16) for _ in range(4)))
    assert sum(counts) == 2
    assert (await texts_to("ann")).count(REMINDER) == 1
    assert (await texts_to("ann")).count(CLOSED) == 1
    assert await UndoSnapshot.filter(action=Action.AUTO_NOSHOW.value).count() == 1
    assert await texts_to("spa") == [NO_SHOW]
    assert await GraceTimer.filter(fired_at__isnull=True).count() == 0


async def test_the_worker_fires_what_its_clock_says_is_due_and_stops_cleanly(spa):
    await called_and_told()
    worker = GraceWorker(poll_interval=0.05, clock=lambda: NOW + timedelta(minutes=16))
    await worker.start()
    try:
        async with asyncio.timeout(30):
            while True:
                if (await spot_of("ann")).status is Status.NO_SHOW:
                    break
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    assert await GraceTimer.filter(fired_at__isnull=True).count() == 0


async def test_undo_reply_names_the_automatic_no_show(spa):
    text = provider_replies.undo(
        outcome=Outcome.EXPIRED, action=Action.AUTO_NOSHOW, name=None, phone=None, position=None
    )
    assert "no-show" in text
