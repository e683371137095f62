"""The outbox dispatcher: delivery, opt-outs, retries, latency, exactly-once."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.engine import handle_message
from core.models import Channel, Contact, OutboxMessage, OutboxStatus
from core.rules.days import utcnow
from core.rules.delivery import SendBudget
from core.services import contacts, service_accounts, users
from core.services.outbox.dispatcher import Dispatcher
from core.services.outbox.transport import HandBack, RetryLater, Undeliverable
from core.services.outbox.wakeup import Wakeup
from tests.conftest import ON_POSTGRES

ANN, BOB, SPA = "+14155550101", "+14155550102", "+14155550100"
_PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


class Recorder:
    """A Transport that records what it sends, or fails as told."""

    def __init__(self, channel: Channel, *, fail_with: Exception | None = None) -> None:
        self.channel = channel
        self.fail_with = fail_with
        self.sent: list[tuple[str, str, str]] = []
        self.arrived = asyncio.Event()

    async def send(self, *, recipient_phone: str, text: str, idempotency_key: str) -> str | None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((recipient_phone, text, idempotency_key))
        self.arrived.set()
        return f"ext-{len(self.sent)}"


class Finder(Recorder):
    """A Recorder that can also say what the channel already has (FindsSent)."""

    def __init__(
        self, channel: Channel = Channel.SMS, *, has: list[str] | None = None,
        lookup_fails: Exception | None = None, **options: object,
    ) -> None:
        super().__init__(channel, **options)  # type: ignore[arg-type]
        self.has = has or []
        self.lookup_fails = lookup_fails
        self.lookups: list[dict[str, object]] = []

    async def find_sent(self, *, recipient_phone, text, idempotency_key, since):
        self.lookups.append(
            {"to": recipient_phone, "text": text, "key": idempotency_key, "since": since}
        )
        if self.lookup_fails is not None:
            raise self.lookup_fails
        return list(self.has)


async def _put(key: str, *, to: str = ANN, channel: Channel = Channel.SMS, delay: float = 0):
    return await OutboxMessage.create(
        channel=channel.value,
        recipient=to,
        text=f"text {key}",
        next_attempt_at=utcnow() + timedelta(seconds=delay),
        idempotency_key=key,
    )


async def test_a_due_message_is_sent_once_and_marked_sent(orm):
    await _put("k1")
    await _put("later", delay=3600)
    sms = Recorder(Channel.SMS)
    dispatcher = Dispatcher({Channel.SMS: sms})
    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0
    assert sms.sent == [(ANN, "text k1", "k1")]
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.attempts, row.external_id) == (OutboxStatus.SENT, 1, "ext-1")
    assert row.sent_at is not None
    assert (await OutboxMessage.get(idempotency_key="later")).status == OutboxStatus.PENDING


async def test_messages_to_opted_out_phones_are_skipped_not_sent(orm):
    await contacts.set_opted_out(phone=ANN, opted_out=True)
    await _put("k1")
    await _put("k2", to=BOB)
    sms = Recorder(Channel.SMS)
    await Dispatcher({Channel.SMS: sms}).run_once()
    assert [to for to, _, _ in sms.sent] == [BOB]
    assert (await OutboxMessage.get(idempotency_key="k1")).status == OutboxStatus.SKIPPED


async def test_a_temporary_failure_is_retried_no_sooner_than_the_channel_asks(orm):
    await _put("k1")
    failing = Recorder(Channel.SMS, fail_with=RetryLater("429", retry_after=30))
    started = utcnow()
    await Dispatcher({Channel.SMS: failing}).run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error == "429"
    assert row.next_attempt_at >= started + timedelta(seconds=30)
    # Not due yet: nothing is claimed.
    assert await Dispatcher({Channel.SMS: Recorder(Channel.SMS)}).run_once() == 0


async def test_retries_back_off_and_stop_after_max_attempts(orm):
    await _put("k1")
    failing = Recorder(Channel.SMS, fail_with=RetryLater("503"))
    dispatcher = Dispatcher({Channel.SMS: failing}, max_attempts=3, base_backoff=10)
    delays = []
    for _ in range(3):
        before = utcnow()
        await dispatcher.run_once()
        row = await OutboxMessage.get(idempotency_key="k1")
        delays.append(round((row.next_attempt_at - before).total_seconds()))
        # Make it due again without waiting for the backoff.
        await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert delays[:2] == [10, 20]


async def test_an_undeliverable_message_is_not_retried_and_an_opt_out_is_remembered(orm):
    await _put("k1")
    refused = Recorder(Channel.SMS, fail_with=Undeliverable("21610", opted_out=True))
    await Dispatcher({Channel.SMS: refused}).run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert await contacts.is_opted_out(phone=ANN)
    assert await Dispatcher({Channel.SMS: Recorder(Channel.SMS)}).run_once() == 0


async def test_a_sender_that_crashes_is_treated_as_a_temporary_failure(orm):
    await _put("k1")
    await Dispatcher({Channel.SMS: Recorder(Channel.SMS, fail_with=KeyError("bug"))}).run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "KeyError" in (row.last_error or "")


# Attempts without a known outcome, and reconciling them --------------------------------


async def _cut_off(key: str, *, minutes_ago: float = 3) -> OutboxMessage:
    """A message claimed by a process that died mid-send: the claim's marker is set, no
    outcome was recorded, and its lease has run out."""
    row = await _put(key)
    started = utcnow() - timedelta(minutes=minutes_ago)
    await OutboxMessage.filter(id=row.id).update(attempts=1, sending_started_at=started)
    return await OutboxMessage.get(id=row.id)


async def test_a_send_cut_off_that_the_channel_has_is_marked_sent_and_not_sent_again(orm):
    row = await _cut_off("k1")
    sms = Finder(has=["SM-earlier"])

    assert await Dispatcher({Channel.SMS: sms}).run_once() == 1

    assert sms.sent == []
    [lookup] = sms.lookups
    assert (lookup["to"], lookup["text"], lookup["key"]) == (ANN, "text k1", "k1")
    # It looks back to when the cut-off attempt began (less a little clock skew).
    assert lookup["since"] <= row.sending_started_at
    assert lookup["since"] >= row.sending_started_at - timedelta(minutes=1)
    again = await OutboxMessage.get(id=row.id)
    assert (again.status, again.external_id) == (OutboxStatus.SENT, "SM-earlier")
    assert again.sending_started_at is None


async def test_a_send_cut_off_that_the_channel_does_not_have_is_sent(orm):
    await _cut_off("k1")
    sms = Finder(has=[])

    await Dispatcher({Channel.SMS: sms}).run_once()

    assert len(sms.lookups) == 1
    assert [key for _, _, key in sms.sent] == ["k1"]
    again = await OutboxMessage.get(idempotency_key="k1")
    assert (again.status, again.external_id, again.attempts) == (OutboxStatus.SENT, "ext-1", 2)


async def test_a_message_the_channel_has_for_another_row_is_not_taken_for_this_one(orm):
    # Two notices with the same text to one phone: the SMS found belongs to the first.
    first = await _put("first")
    await OutboxMessage.filter(id=first.id).update(
        status=OutboxStatus.SENT, external_id="SM-first", text="text k1"
    )
    await _cut_off("k1")
    sms = Finder(has=["SM-first"])

    await Dispatcher({Channel.SMS: sms}).run_once()

    assert [key for _, _, key in sms.sent] == ["k1"]
    assert (await OutboxMessage.get(idempotency_key="k1")).external_id == "ext-1"


async def test_when_the_lookup_fails_nothing_is_sent_and_it_looks_again_later(orm):
    row = await _cut_off("k1")
    sms = Finder(lookup_fails=RetryLater("twilio answered 503", retry_after=20))
    started = utcnow()

    await Dispatcher({Channel.SMS: sms}).run_once()

    assert sms.sent == []
    again = await OutboxMessage.get(id=row.id)
    assert again.status == OutboxStatus.PENDING
    assert again.sending_started_at == row.sending_started_at  # still unknown
    assert again.next_attempt_at >= started + timedelta(seconds=20)
    assert "could not check" in (again.last_error or "")

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    sms.lookup_fails = None
    await Dispatcher({Channel.SMS: sms}).run_once()
    assert [key for _, _, key in sms.sent] == ["k1"]
    assert len(sms.lookups) == 2


async def test_a_channel_without_lookup_sends_a_cut_off_message_again(orm):
    # Telegram's Bot API cannot say what was sent: at least once across crashes.
    await _cut_off("k1")
    telegram = Recorder(Channel.SMS)

    await Dispatcher({Channel.SMS: telegram}).run_once()

    assert [key for _, _, key in telegram.sent] == ["k1"]


async def test_a_first_attempt_does_not_look_anything_up(orm):
    await _put("k1")
    sms = Finder(has=["SM-unrelated"])

    await Dispatcher({Channel.SMS: sms}).run_once()

    assert sms.lookups == []
    assert [key for _, _, key in sms.sent] == ["k1"]


@pytest.mark.parametrize(
    ("failure", "looks_next_time"),
    [
        (RetryLater("429", retry_after=1), False),
        (RetryLater("twilio unreachable: TimeoutError", outcome_unknown=True), True),
        (RuntimeError("sender bug"), True),
    ],
    ids=["refused", "unknown", "crashed"],
)
async def test_only_a_failure_with_an_unknown_outcome_is_looked_up_before_the_retry(
    orm, failure, looks_next_time
):
    await _put("k1")
    sms = Finder(fail_with=failure)
    dispatcher = Dispatcher({Channel.SMS: sms})
    await dispatcher.run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.sending_started_at is not None) == looks_next_time

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    sms.fail_with = None
    await dispatcher.run_once()

    assert len(sms.lookups) == int(looks_next_time)
    assert [key for _, _, key in sms.sent] == ["k1"]


async def test_a_send_that_outlives_the_dispatchers_timeout_is_looked_up_before_the_retry(orm):
    await _put("k1")

    class Slow(Finder):
        async def send(self, **message):
            await asyncio.sleep(5)

    sms = Slow(has=["SM-late"])
    dispatcher = Dispatcher({Channel.SMS: sms}, send_timeout=0.05)
    await dispatcher.run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "send timed out")

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())
    await dispatcher.run_once()

    again = await OutboxMessage.get(id=row.id)
    assert (again.status, again.external_id) == (OutboxStatus.SENT, "SM-late")


# Pacing and stale messages ---------------------------------------------------------------


async def test_a_message_handed_back_by_pacing_does_not_use_up_its_attempts(orm):
    await _put("k1")
    paced = Recorder(Channel.SMS, fail_with=HandBack("sender is paced", retry_after=30))
    dispatcher = Dispatcher({Channel.SMS: paced}, max_attempts=2)
    started = utcnow()
    for _ in range(5):
        await dispatcher.run_once()
        row = await OutboxMessage.get(idempotency_key="k1")
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
        assert row.next_attempt_at >= started + timedelta(seconds=30)
        assert row.sending_started_at is None
        await OutboxMessage.filter(id=row.id).update(next_attempt_at=utcnow())

    paced.fail_with = None
    await dispatcher.run_once()
    row = await OutboxMessage.get(idempotency_key="k1")
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


class Clock:
    """The dispatcher's wall clock, moved by hand: a send that waits for its pacing slot
    takes as long as the test says, and no longer in real time."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_a_message_waiting_its_turn_in_a_long_batch_is_never_taken_over_by_another_process(
    orm
):
    """Both of Ann's messages are claimed at once and go out one after the other, each
    send using most of its timeout (its pacing wait): the second's claim is renewed before
    its send, so another dispatcher polling while it is on its way finds nothing due."""
    clock = Clock()
    await _put("first", delay=-1)
    await _put("second", delay=-1)
    timeout = 10.0
    other_sender = Recorder(Channel.SMS)
    other = Dispatcher({Channel.SMS: other_sender}, send_timeout=timeout, clock=clock)
    polled: list[int] = []

    class Paced(Recorder):
        async def send(self, **message):
            # A pacing wait of nearly the whole send timeout, then the request; while
            # the second message is on its way the other process polls, past the first
            # claim's lease.
            clock.advance(timeout - 1)
            if message["idempotency_key"] == "second":
                polled.append(await other.run_once())
            return await super().send(**message)

    paced = Paced(Channel.SMS)
    assert await Dispatcher({Channel.SMS: paced}, send_timeout=timeout, clock=clock).run_once() == 2

    assert polled == [0]
    assert other_sender.sent == []
    assert [key for _, _, key in paced.sent] == ["first", "second"]
    rows = await OutboxMessage.all().order_by("id")
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.SENT, 1)] * 2


async def test_the_claim_lease_is_just_longer_than_the_send_timeout():
    budget = SendBudget(20.0)
    assert budget.lease == timedelta(seconds=25)
    # The pacing wait counts inside the send timeout, with the rest for the request.
    assert budget.pacing_wait + budget.request_timeout == 20.0
    assert 0 < budget.pacing_wait < budget.send_timeout
    assert budget.renew_after < budget.lease - timedelta(seconds=budget.send_timeout)


async def test_a_notice_older_than_the_maximum_age_is_skipped_with_the_reason(orm):
    row = await _put("k1")
    await OutboxMessage.filter(id=row.id).update(created_at=utcnow() - timedelta(hours=3))
    await _put("fresh")
    sms = Recorder(Channel.SMS)

    await Dispatcher({Channel.SMS: sms}).run_once()

    assert [key for _, _, key in sms.sent] == ["fresh"]
    stale = await OutboxMessage.get(id=row.id)
    assert stale.status == OutboxStatus.SKIPPED
    assert "too old" in (stale.last_error or "")


async def test_the_maximum_age_can_be_changed_or_switched_off(orm):
    row = await _put("k1")
    await OutboxMessage.filter(id=row.id).update(created_at=utcnow() - timedelta(hours=3))
    sms = Recorder(Channel.SMS)

    await Dispatcher({Channel.SMS: sms}, max_age=timedelta(hours=4)).run_once()
    await _put("k2")
    await OutboxMessage.filter(idempotency_key="k2").update(
        created_at=utcnow() - timedelta(days=3)
    )
    await Dispatcher({Channel.SMS: sms}, max_age=None).run_once()

    assert [key for _, _, key in sms.sent] == ["k1", "k2"]


async def test_a_stale_message_whose_earlier_send_went_out_is_recorded_as_sent(orm):
    row = await _cut_off("k1")
    await OutboxMessage.filter(id=row.id).update(created_at=utcnow() - timedelta(hours=3))
    sms = Finder(has=["SM-earlier"])

    await Dispatcher({Channel.SMS: sms}).run_once()

    again = await OutboxMessage.get(id=row.id)
    assert (again.status, again.external_id) == (OutboxStatus.SENT, "SM-earlier")


async def test_a_dispatcher_claims_only_channels_it_can_send_on(orm):
    await _put("sms")
    await _put("tg", channel=Channel.TELEGRAM)
    telegram = Recorder(Channel.TELEGRAM)
    assert await Dispatcher({Channel.TELEGRAM: telegram}).run_once() == 1
    assert [key for _, _, key in telegram.sent] == ["tg"]
    assert (await OutboxMessage.get(idempotency_key="sms")).status == OutboxStatus.PENDING


async def test_a_console_dispatcher_takes_only_its_own_phones_messages(orm):
    await _put("ann", channel=Channel.CONSOLE)
    await _put("bob", to=BOB, channel=Channel.CONSOLE)
    console = Recorder(Channel.CONSOLE)
    await Dispatcher({Channel.CONSOLE: console}, recipient=BOB).run_once()
    assert [key for _, _, key in console.sent] == ["bob"]


async def test_one_recipients_messages_go_out_in_the_order_they_were_written(orm):
    for key in ("a", "b", "c", "d"):
        await _put(key)
    sms = Recorder(Channel.SMS)
    await Dispatcher({Channel.SMS: sms}).run_once()
    assert [key for _, _, key in sms.sent] == ["a", "b", "c", "d"]


async def test_a_message_leaves_within_a_second_of_the_change_that_caused_it(orm):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    await users.create_user(name="Ann Bell", phone=ANN)
    await handle_message(channel=Channel.SMS, phone=ANN, text="join")
    sms = Recorder(Channel.SMS)
    wakeup = Wakeup()
    # A poll far off: only the wake-up can bring the message out in time.
    dispatcher = Dispatcher({Channel.SMS: sms}, wakeup=wakeup, poll_interval=30)
    await dispatcher.start()
    try:
        await asyncio.sleep(0.3)  # let it settle into waiting for work
        started = time.monotonic()
        await handle_message(channel=Channel.SMS, phone=SPA, text="next")
        wakeup.wake()  # as the entry point does once the engine has run
        await asyncio.wait_for(sms.arrived.wait(), timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        await dispatcher.stop()
    assert "your turn" in sms.sent[0][1]
    assert elapsed < 1.0


async def test_a_message_written_by_another_process_is_picked_up_by_polling(orm):
    sms = Recorder(Channel.SMS)
    dispatcher = Dispatcher({Channel.SMS: sms}, poll_interval=0.25)
    await dispatcher.start()
    try:
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await _put("from-elsewhere")  # no in-process wake-up
        await asyncio.wait_for(sms.arrived.wait(), timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        await dispatcher.stop()
    assert elapsed < 1.0


async def test_two_dispatchers_in_one_process_deliver_each_message_once(orm):
    for i in range(60):
        await _put(f"k{i}", to=f"+1415555{i:04d}")
    one, two = Recorder(Channel.SMS), Recorder(Channel.SMS)
    a = Dispatcher({Channel.SMS: one}, batch_size=7)
    b = Dispatcher({Channel.SMS: two}, batch_size=7)
    while await OutboxMessage.filter(status=OutboxStatus.PENDING).exists():
        await asyncio.gather(a.run_once(), b.run_once())
    keys = [k for _, _, k in one.sent + two.sent]
    assert sorted(keys) == sorted(f"k{i}" for i in range(60))


_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from core.services.outbox.dispatcher import Dispatcher
    from core import db
    from core.models import Channel, OutboxMessage, OutboxStatus

    url, out_path = sys.argv[1], sys.argv[2]

    class FileTransport:
        channel = Channel.SMS
        def __init__(self, out):
            self.out = out
        async def send(self, *, recipient_phone, text, idempotency_key):
            await asyncio.sleep(0.001)  # a network round trip, so the two overlap
            self.out.write(idempotency_key + "\\n")
            self.out.flush()
            return None

    async def main():
        ctx = await db.start(url)
        try:
            with open(out_path, "w") as out:
                dispatcher = Dispatcher({Channel.SMS: FileTransport(out)}, batch_size=10)
                idle = 0
                while idle < 20:
                    idle = 0 if await dispatcher.run_once() else idle + 1
                    if idle:
                        await asyncio.sleep(0.02)
        finally:
            await ctx.close_connections()

    asyncio.run(main())
    """
)


@pytest.mark.skipif(not ON_POSTGRES, reason="SKIP LOCKED claims are a PostgreSQL feature")
async def test_two_dispatcher_processes_on_postgresql_deliver_each_message_exactly_once(
    orm, tmp_path: Path
):
    total = 400
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                channel=Channel.SMS.value,
                recipient=f"+1415555{i:04d}",
                text="hello",
                next_attempt_at=utcnow(),
                idempotency_key=f"k{i}",
            )
            for i in range(total)
        ]
    )
    url = orm + ("&" if "?" in orm else "?") + "minsize=1&maxsize=4"
    env = {**os.environ, "PYTHONPATH": _PROJECT_ROOT}
    outputs = [tmp_path / "one.txt", tmp_path / "two.txt"]
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", _WORKER, url, str(out), env=env)
        for out in outputs
    ]
    codes = await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers)), 120)
    assert codes == [0, 0]
    per_worker = [(await asyncio.to_thread(out.read_text)).split() for out in outputs]
    delivered = per_worker[0] + per_worker[1]
    assert sorted(delivered) == sorted(f"k{i}" for i in range(total))
    assert all(per_worker), "both processes should have taken a share"
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == total
    assert not await Contact.exists()
