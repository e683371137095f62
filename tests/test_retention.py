"""Pruning: what is past retention goes, in batches, counted first; the rest stays."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from core import db
from core.models import (
    Appointment,
    Channel,
    Conversation,
    GraceTimer,
    IdempotencyRecord,
    InboundMessage,
    InboundRate,
    MessageCount,
    OutboxMessage,
    PruneRun,
    ServiceAccount,
    SignInCode,
    Status,
    StatusLink,
    UndoSnapshot,
    User,
)
from core.rules.retention import Retention
from core.services import deliveries, pruning, stats
from core.services.prune_worker import elected, prune_if_due
from core.settings import Settings
from tests.conftest import ON_POSTGRES

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
KEEP = Retention(inbound_days=7, outbox_days=30)
PROVIDER, ANN, STRANGER = "+12025550179", "+14155550101", "+14155550199"


async def _inbound(sid: str, phone: str | None, received: datetime, channel: str = "sms") -> int:
    row = await InboundMessage.create(
        channel=channel, external_id=sid, phone=phone, received_on=received.date(), reply="ok"
    )
    await InboundMessage.filter(id=row.id).update(created_at=received)
    return row.id


async def _outbox(
    key: str,
    status: str,
    created: datetime,
    recipient: str = ANN,
    account: ServiceAccount | None = None,
    text: str = "Your turn",
) -> int:
    """An outbox row; sent ones about `account`'s line are sent a minute after `created`."""
    row = await OutboxMessage.create(
        channel="sms",
        recipient=recipient,
        text=text,
        status=status,
        next_attempt_at=created,
        idempotency_key=key,
        service_account_id=account.id if account else None,
        sent_at=created + timedelta(minutes=1) if status == "sent" else None,
    )
    await OutboxMessage.filter(id=row.id).update(created_at=created)
    return row.id


async def _visit(account: ServiceAccount, user: User, day: date) -> Appointment:
    moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10)
    appointment = await Appointment.create(
        user=user,
        service_account=account,
        appointment_date=moment,
        day=day,
        status=Status.COMPLETED,
        called_at=moment,
        status_changed_at=moment + timedelta(minutes=20),
    )
    await Appointment.filter(id=appointment.id).update(created_at=moment - timedelta(minutes=30))
    return appointment


async def ids(model: type, **filters: object) -> set[int]:
    return set(await model.filter(**filters).values_list("id", flat=True))


async def test_a_prune_deletes_exactly_what_is_past_retention_and_keeps_the_rest(orm):
    account = await ServiceAccount.create(name="Spa", phone=PROVIDER)
    ann = await User.create(name="Ann", phone=ANN)
    old_day = TODAY - timedelta(days=8)
    old_in = await _inbound("SMold", ANN, NOW - timedelta(days=8))
    new_in = await _inbound("SMnew", ANN, NOW - timedelta(days=6))
    sent_old = await _outbox("a", "sent", NOW - timedelta(days=31))
    failed_old = await _outbox("b", "failed", NOW - timedelta(days=31))
    pending_old = await _outbox("c", "pending", NOW - timedelta(days=31))
    sent_new = await _outbox("d", "sent", NOW - timedelta(days=29))
    idle = await InboundRate.create(
        channel="sms", phone=ANN, window_start=NOW - timedelta(hours=2), seen=3
    )
    live = await InboundRate.create(channel="sms", phone=STRANGER, window_start=NOW, seen=1)
    gone = await Conversation.create(
        channel="sms", phone=ANN, state="s", expires_at=NOW - timedelta(minutes=1)
    )
    going = await Conversation.create(
        channel="sms", phone=STRANGER, state="s", expires_at=NOW + timedelta(minutes=5)
    )
    old_visit, visit = await _visit(account, ann, old_day), await _visit(account, ann, TODAY)
    snapshots = [
        await UndoSnapshot.create(
            service_account=account,
            action="next",
            appointment=visit,
            prior_status=Status.ACTIVE,
            taken_at=NOW - minutes,
        )
        for minutes in (timedelta(minutes=11), timedelta(minutes=9))
    ]
    timers = [
        await GraceTimer.create(
            appointment=visit, kind="expiry", called_at=NOW, due_at=NOW, fired_at=fired
        )
        for fired in (NOW - timedelta(days=2), NOW - timedelta(hours=1), None)
    ]
    links = [
        await StatusLink.create(token_hash=f"h{i}", appointment=visit, day=day, created_at=NOW)
        for i, day in enumerate((TODAY - timedelta(days=2), TODAY - timedelta(days=1)))
    ]
    codes = [
        await SignInCode.create(
            phone=ANN, code_hash="x", created_at=at, expires_at=at + timedelta(minutes=10)
        )
        for at in (NOW - timedelta(hours=2), NOW - timedelta(minutes=30))
    ]
    records = [
        await IdempotencyRecord.create(
            scope="POST /users/", key=f"k{i}", request_hash="h", created_at=at
        )
        for i, at in enumerate((NOW - timedelta(hours=25), NOW - timedelta(hours=23)))
    ]

    swept = await pruning.prune(keep=KEEP, now=NOW)

    assert {name: table.rows for name, table in swept.items() if table.rows} == {
        "inbound_messages": 1,
        "outbox": 2,
        "inbound_rates": 1,
        "conversations": 1,
        "undo_snapshots": 1,
        "grace_timers": 1,
        "status_links": 1,
        "console_codes": 1,
        "idempotency_records": 1,
    }
    assert await ids(InboundMessage) == {new_in}
    assert old_in not in await ids(InboundMessage)
    assert await ids(OutboxMessage) == {pending_old, sent_new}
    assert sent_old not in await ids(OutboxMessage)
    assert failed_old not in await ids(OutboxMessage)
    assert await ids(InboundRate) == {live.id}
    assert idle.id not in await ids(InboundRate)
    assert await ids(Conversation) == {going.id}
    assert gone.id not in await ids(Conversation)
    assert await ids(UndoSnapshot) == {snapshots[1].id}
    assert await ids(GraceTimer) == {timers[1].id, timers[2].id}
    assert await ids(StatusLink) == {links[1].id}
    assert await ids(SignInCode) == {codes[1].id}
    assert await ids(IdempotencyRecord) == {records[1].id}
    # Appointments are history, not retention's: both visits stay.
    assert await ids(Appointment) == {old_visit.id, visit.id}
    run = await PruneRun.get()
    assert run.finished_at is not None
    assert run.deleted["outbox"] == 2


async def test_a_prune_deletes_in_statements_of_at_most_the_batch_and_counts_every_message(orm):
    account = await ServiceAccount.create(name="Spa", phone=PROVIDER)
    ann = await User.create(name="Ann", phone=ANN)
    old = NOW - timedelta(days=40)
    await _visit(account, ann, old.date())
    for i in range(25):
        await _inbound(f"SM{i}", ANN if i < 20 else STRANGER, old + timedelta(seconds=i))
    for i in range(12):
        await _outbox(f"k{i}", "sent", old, recipient=ANN, account=account if i < 10 else None)

    swept = await pruning.prune(keep=KEEP, now=NOW, batch=10)

    assert (swept["inbound_messages"].rows, swept["inbound_messages"].statements) == (25, 3)
    assert (swept["outbox"].rows, swept["outbox"].statements) == (12, 2)
    counts = {
        (c.day, c.service_account_id, c.channel, c.direction): c.messages
        for c in await MessageCount.all()
    }
    assert counts == {
        (old.date(), account.id, "sms", "in"): 20,
        (old.date(), 0, "sms", "in"): 5,
        (old.date(), account.id, "sms", "sent"): 10,
        (old.date(), 0, "sms", "sent"): 2,
    }
    segments = await MessageCount.filter(direction="sent").values_list("segments", flat=True)
    assert sorted(segments) == [0, 10]
    with pytest.raises(ValueError, match="batch"):
        await pruning.prune(keep=KEEP, now=NOW, batch=5001)


async def test_a_paced_prune_pauses_after_each_full_batch_for_its_ratio_of_the_batchs_time(orm):
    old = NOW - timedelta(days=40)
    for i in range(25):
        await _inbound(f"SM{i}", ANN, old + timedelta(seconds=i))
    for i in range(12):
        await _outbox(f"k{i}", "sent", old, recipient=ANN)
    pauses: list[tuple[float, int, int]] = []

    async def sleep(seconds: float) -> None:
        # What is left when it pauses: the batch before it has been deleted and committed.
        pauses.append((seconds, await InboundMessage.all().count(), await OutboxMessage.all().count()))

    swept = await pruning.prune(keep=KEEP, now=NOW, batch=10, pacing=pruning.Pacing(3.0, sleep))

    assert swept["inbound_messages"].rows == 25
    assert swept["outbox"].rows == 12
    # Two full batches of inbound records, one of the outbox; a step's last, short
    # batch ends it without a pause.
    assert [(inbound, outbox) for _, inbound, outbox in pauses] == [(15, 12), (5, 12), (0, 2)]
    assert all(seconds > 0 for seconds, _, _ in pauses)


async def test_a_prune_without_pacing_never_pauses(orm):
    for i in range(25):
        await _inbound(f"SM{i}", ANN, NOW - timedelta(days=40))
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    await pruning.prune(keep=KEEP, now=NOW, batch=10, pacing=pruning.Pacing(0.0, sleep))

    assert pauses == []
    assert await InboundMessage.all().count() == 0


async def test_a_providers_figures_are_the_same_after_a_prune(orm):
    account = await ServiceAccount.create(name="Spa", phone=PROVIDER)
    ann = await User.create(name="Ann", phone=ANN)
    start = TODAY - timedelta(days=40)
    for offset in range(0, 40, 3):
        await _visit(account, ann, start + timedelta(days=offset))
        await _inbound(f"SM{offset}", ANN, NOW - timedelta(days=40 - offset))
        # A long text: STATS count its SMS segments (and their cost) too.
        await _outbox(
            f"n{offset}", "sent", NOW - timedelta(days=40 - offset), account=account, text="x" * 200
        )
    before = await stats.range_stats(service_account_phone=PROVIDER, start=start, end=TODAY)

    swept = await pruning.prune(keep=KEEP, now=NOW)

    assert swept["inbound_messages"].rows > 0
    assert swept["outbox"].rows > 0
    after = await stats.range_stats(service_account_phone=PROVIDER, start=start, end=TODAY)
    assert after == before
    assert before.messages.sent == {"sms": len(range(0, 40, 3))}
    assert before.messages.sms_segments == 2 * len(range(0, 40, 3))
    kept = await InboundMessage.all().count() + await OutboxMessage.all().count()
    counted = sum(c.messages for c in await MessageCount.filter(service_account_id=account.id))
    assert kept + counted == 2 * len(range(0, 40, 3))


async def test_a_redelivery_is_a_duplicate_across_midnight_within_its_channels_horizon(orm):
    before_midnight = datetime(2026, 6, 14, 23, 59, 50, tzinfo=UTC)
    after_midnight = before_midnight + timedelta(seconds=20)
    sms = {"channel": Channel.SMS, "external_id": "SMx", "phone": ANN}
    assert await deliveries.record(**sms, now=before_midnight) is not None
    assert await deliveries.record(**sms, now=after_midnight) is None
    tg = {"channel": Channel.TELEGRAM, "external_id": "7:100", "phone": ANN}
    assert await deliveries.record(**tg, now=before_midnight) is not None
    assert await deliveries.record(**tg, now=before_midnight + timedelta(hours=20)) is None
    # Past Twilio's horizon the same id is a new message, recorded under its own day.
    assert await deliveries.record(**sms, now=before_midnight + timedelta(hours=3)) is not None
    days = await InboundMessage.filter(external_id="SMx").values_list("received_on", flat=True)
    assert sorted(days) == [date(2026, 6, 14), date(2026, 6, 15)]


async def test_the_app_prunes_on_its_own_once_per_interval(aiohttp_client, database_url):
    from webhooks.app import create_app

    settings = Settings(_env_file=None, database_url=database_url, prune_interval=0.2)  # type: ignore[call-arg]
    await aiohttp_client(create_app(settings))
    await _inbound("SMold", ANN, datetime.now(UTC) - timedelta(days=9))
    seeded = datetime.now(UTC)
    later = PruneRun.filter(started_at__gt=seeded, finished_at__isnull=False)
    for _ in range(100):
        if await later.exists():
            break
        await asyncio.sleep(0.05)
    assert await later.exists()
    assert not await InboundMessage.exists()
    # A run is due again only once the interval has passed since the last one finished.
    lock = db.listen_params(database_url)
    assert await prune_if_due(keep=KEEP, interval=3600, lock=lock) is None


@pytest.mark.skipif(
    not ON_POSTGRES, reason="the advisory lock is PostgreSQL's; SQLite has one process"
)
async def test_only_one_of_two_concurrent_prunes_runs(orm):
    lock = db.listen_params(orm)
    async with elected(lock):
        # Another process holds the lock: this one does nothing, even though a run is due.
        assert await prune_if_due(keep=KEEP, interval=3600, lock=lock) is None
    assert await PruneRun.all().count() == 0
    results = await asyncio.gather(
        *(prune_if_due(keep=KEEP, interval=3600, lock=lock) for _ in range(2))
    )
    assert sum(result is not None for result in results) == 1
    assert await PruneRun.all().count() == 1


def test_inbound_records_kept_less_than_a_day_are_refused_at_start_up():
    with pytest.raises(ValidationError, match="retain_inbound_days"):
        Settings(_env_file=None, retain_inbound_days=0)  # type: ignore[call-arg]
    assert Settings(_env_file=None).retention == KEEP  # type: ignore[call-arg]


def _prune_command(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "prune"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_waitlist_prune_prints_the_rows_each_table_lost(orm):
    await _inbound("SMold", ANN, datetime.now(UTC) - timedelta(days=9))
    await _inbound("SMnew", ANN, datetime.now(UTC))

    result = await asyncio.to_thread(_prune_command, orm)

    assert result.returncode == 0, result.stderr
    assert "inbound_messages: 1 rows deleted in 1 statements" in result.stdout
    assert "outbox: 0 rows deleted in 0 statements" in result.stdout
    assert await InboundMessage.all().values_list("external_id", flat=True) == ["SMnew"]


@pytest.mark.skipif(not ON_POSTGRES, reason="the advisory lock is PostgreSQL's")
async def test_waitlist_prune_does_nothing_while_another_process_prunes(orm):
    async with elected(db.listen_params(orm)):
        result = await asyncio.to_thread(_prune_command, orm)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "another process is pruning; nothing done"
    assert await PruneRun.all().count() == 0
