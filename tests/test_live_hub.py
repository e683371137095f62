"""The line hub: a watcher of a line wakes when the line changes, whoever changed it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.models import ServiceAccount, User
from core.services import booking
from webhooks.live import LineHub

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def _line(name: str) -> tuple[ServiceAccount, User]:
    account = await ServiceAccount.create(phone="+15550001000", name=name, timezone="UTC")
    user = await User.create(phone="+15550002000", name="Ann")
    return account, user


async def test_a_watcher_wakes_when_a_booking_changes_its_line_within_the_poll(orm):
    account, user = await _line("Zen Spa")
    hub = LineHub(poll_interval=0.05)
    await hub.start()
    try:
        async with hub.watch(account.id, NOW.date()) as watch:
            assert await watch.wait(5) is True  # the line's first poll
            await booking.book(
                user_phone=user.phone,
                service_account_phone=account.phone,
                appointment_date=NOW.date(),
                now=NOW,
            )
            assert await watch.wait(5) is True
    finally:
        await hub.stop()


async def test_a_watcher_of_another_line_or_day_sleeps_through_the_change(orm):
    account, user = await _line("Zen Spa")
    hub = LineHub(poll_interval=0.05)
    await hub.start()
    try:
        async with hub.watch(account.id, NOW.date() + timedelta(days=1)) as watch:
            assert await watch.wait(5) is True  # the line's first poll
            await booking.book(
                user_phone=user.phone,
                service_account_phone=account.phone,
                appointment_date=NOW.date(),
                now=NOW,
            )
            # Several polls pass (0.05 s apart) without a wake.
            assert await watch.wait(0.5) is False
    finally:
        await hub.stop()


async def test_changed_wakes_this_processes_watchers_at_once_and_a_closed_watch_is_gone():
    hub = LineHub(poll_interval=60)
    day = NOW.date()
    async with hub.watch(7, day) as first, hub.watch(7, day) as second:
        assert hub.watched == 2
        hub.changed(7, day)
        assert await first.wait(1) is True
        assert await second.wait(1) is True
        assert await first.wait(0.05) is False  # re-armed: one nudge, one wake
    assert hub.watched == 0


async def test_shared_runs_the_load_once_for_every_caller_with_the_same_key():
    hub = LineHub()
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(hub.shared(("line", 1), load) for _ in range(100)))
    assert results == [42] * 100
    assert calls == 1
    assert await hub.shared(("line", 1), load) == 42
    assert calls == 2  # a later caller, after the first load finished, loads again
