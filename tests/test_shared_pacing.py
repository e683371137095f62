"""Send turns kept in PostgreSQL hold for every pacer that shares the database: pacers
with nothing in common but the database (as in separate processes and hosts) never start
more than the rate plus one in any one-second window, one chat's messages stay a second
apart, and a 429 holds every pacer back."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from core.models import PacingSlot
from core.services import pacing
from core.services.outbox.transport import HandBack
from tests.conftest import ON_POSTGRES
from webhooks.sms.pacing import NumberPacer
from webhooks.telegram.pacing import BotPacer

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="the shared budget is PostgreSQL's; SQLite paces in its one process"
)

RATE = 20.0
SENDER = "+15005550006"


def most_in_one_second(starts: list[float]) -> int:
    """The most starts in any window [t, t + 1 s]."""
    starts = sorted(starts)
    most, first = 0, 0
    for last, at in enumerate(starts):
        while at - starts[first] > 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_separate_pacers_sharing_the_database_start_at_most_the_rate_plus_one_a_second(
    orm,
):
    # Forty pacers, one turn each, all asking at once: as forty processes would.
    pacers = [NumberPacer(RATE, shared=True) for _ in range(40)]
    starts: list[float] = []

    async def send(pacer: NumberPacer) -> None:
        await pacer.take_turn(SENDER, max_wait=10)
        starts.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(send(p) for p in pacers))

    assert len(starts) == 40
    assert most_in_one_second(starts) <= RATE + 1
    # Evenly spaced, no burst: the fortieth turn starts 39 intervals after the first.
    assert max(starts) - began >= 39 / RATE - 0.02
    print(f"\n40 turns at {RATE:g}/s over {max(starts) - began:.2f} s")


async def test_a_turn_further_off_than_the_longest_wait_is_handed_back_untaken(orm):
    first, second = NumberPacer(1.0, shared=True), NumberPacer(1.0, shared=True)
    await first.take_turn(SENDER, max_wait=5)
    await second.take_turn(SENDER, max_wait=5)  # a second later
    free_at = (await PacingSlot.get(key=f"sms:{SENDER}")).free_at

    with pytest.raises(HandBack) as held:
        await first.take_turn(SENDER, max_wait=0.5)

    assert 0 < held.value.retry_after <= 1.05  # a turn a little over a second apart
    # Nothing was taken: the next turn is where it was.
    assert (await PacingSlot.get(key=f"sms:{SENDER}")).free_at == free_at


async def test_a_turn_the_process_woke_too_late_for_is_dropped_for_a_fresh_one(orm):
    slept: list[float] = []

    async def oversleeping_once(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds + (0.3 if len(slept) == 1 else 0.0))

    await NumberPacer(RATE, shared=True).take_turn(SENDER, max_wait=5)
    # Its turn comes after that one; it wakes 0.3 s late, past the turns after its own.
    await NumberPacer(RATE, shared=True, sleep=oversleeping_once).take_turn(SENDER, max_wait=5)

    # A fresh turn was taken on waking (the next one is free an interval from now); the
    # late one alone would have left it free 0.25 s ago.
    free_at = (await PacingSlot.get(key=f"sms:{SENDER}")).free_at
    assert free_at > time.time() - 0.1
    assert len(slept) == 1


async def test_numbers_are_paced_apart_from_each_other(orm):
    pacer = NumberPacer(1.0, shared=True)
    began = time.monotonic()
    await pacer.take_turn("+15005550006", max_wait=5)
    await pacer.take_turn("+15005550007", max_wait=5)
    assert time.monotonic() - began < 0.5


async def test_one_chats_messages_from_separate_bot_pacers_stay_a_second_apart(orm):
    pacers = [BotPacer(shared=True, name="telegram:7", per_chat_interval=0.5) for _ in range(3)]
    starts: list[float] = []

    async def send(pacer: BotPacer) -> None:
        await pacer.take_turn(42, max_wait=5)
        starts.append(time.monotonic())

    await asyncio.gather(*(send(p) for p in pacers))

    starts.sort()
    assert [round(b - a, 1) for a, b in itertools.pairwise(starts)] == [0.5, 0.5]


async def test_a_bots_chats_share_its_overall_rate_across_pacers(orm):
    pacers = [BotPacer(shared=True, name="telegram:7", per_second=RATE) for _ in range(30)]
    starts: list[float] = []

    async def send(chat: int, pacer: BotPacer) -> None:
        await pacer.take_turn(chat, max_wait=5)
        starts.append(time.monotonic())

    await asyncio.gather(*(send(chat, p) for chat, p in enumerate(pacers)))

    assert len(starts) == 30
    assert most_in_one_second(starts) <= RATE + 1


async def test_telegrams_429_seen_by_one_pacer_holds_back_the_others(orm):
    one, other = BotPacer(shared=True, name="telegram:7"), BotPacer(shared=True, name="telegram:7")
    await one.pause(30)

    with pytest.raises(HandBack) as held:
        await other.take_turn(1, max_wait=5)
    assert 29 < held.value.retry_after <= 30
    with pytest.raises(HandBack):
        await other.take_turn(None, max_wait=5)


async def test_rows_whose_turn_passed_long_ago_are_forgotten(orm):
    await PacingSlot.create(key="telegram:7:1", free_at=time.time() - 3600)
    await PacingSlot.create(key="telegram:7:2", free_at=time.time() + 3600)

    assert await pacing.forget_passed(older_than=60) == 1
    assert await PacingSlot.all().values_list("key", flat=True) == ["telegram:7:2"]
