"""DELAY n [note] through the engine on a real database: everyone waiting today is told
once through the outbox, the waits they are quoted include the delay until DELAY 0 or
the day ends, and the provider hears how many were told."""

# ruff: noqa: F811 (pytest fixtures imported by name)
from __future__ import annotations

import pytest

from core.models import Channel, OutboxMessage
from core.rules import notice_texts
from core.rules.delay import BadDelay, Delay, read_delay
from core.rules.gsm import fits_one_segment
from tests.test_engine_dialogues import PHONES, say, spa  # noqa: F401 (fixtures)


async def notices_to(who: str) -> list[str]:
    return list(
        await OutboxMessage.filter(recipient=PHONES[who])
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_delay_reads_minutes_with_or_without_a_unit_and_keeps_the_note():
    assert read_delay(["20"]) == Delay(20, None)
    assert read_delay(["20", "min", "flat", "tyre"]).note == "flat tyre"
    assert read_delay(["15mins", "traffic"]).minutes == 15
    assert read_delay(["please", "DELAY", "10", "sorry"]) == Delay(10, "sorry")
    assert read_delay(["0"]).minutes == 0


@pytest.mark.parametrize("args", [[], ["delay", "soon"], ["721"], ["-5"], ["20s"]])
def test_delay_without_minutes_from_0_to_720_is_refused(args):
    with pytest.raises(BadDelay):
        read_delay(args)


async def test_delay_tells_each_waiting_customer_once_and_their_waits_include_it(spa):
    await say("ann", "join")
    await say("bob", "join")
    await say("cy", "join")
    await say("spa", "next")  # Ann is called: no longer waiting.
    reply = await say("spa", "delay 20 the boiler broke, sorry", minutes=1)
    assert "Told 2 people" in reply
    assert "20 min" in reply
    assert fits_one_segment(reply)
    told = notice_texts.running_behind(
        place_name="Zen Spa", minutes=20, note="the boiler broke, sorry"
    )
    assert "the boiler broke, sorry" in told
    assert fits_one_segment(told)
    assert told in await notices_to("bob")
    assert told in await notices_to("cy")
    assert told not in await notices_to("ann")
    # Bob is first in line (0 min ahead), Cy behind him (30): both plus 20.
    assert "20 min" in await say("bob", "status", minutes=2)
    assert "50 min" in await say("cy", "status", minutes=2)
    # Sent again, the same delay tells no one twice.
    assert "Told 0 people" in await say("spa", "delay 20", minutes=3)
    assert (await notices_to("cy")).count(told) == 1
    assert len([t for t in await notices_to("cy") if "behind" in t]) == 1
    # A later join is quoted the delay as well: two ahead (60 min) plus 20.
    assert "1h 20m wait" in await say("dee", "join", minutes=4)


async def test_delay_0_ends_it_and_tells_no_one(spa):
    await say("ann", "join")
    await say("bob", "join")
    await say("spa", "delay 15")
    before = await OutboxMessage.all().count()
    reply = await say("spa", "delay 0", minutes=1)
    assert "cleared" in reply
    assert "No one" in reply
    assert await OutboxMessage.all().count() == before
    assert "30 min" in await say("bob", "status", minutes=2)


async def test_a_delay_ends_with_the_day(spa):
    await say("spa", "delay 25")
    # The next day (24 hours on), a join is quoted no delay.
    reply = await say("ann", "join", minutes=24 * 60)
    assert "no wait" in reply


async def test_delay_without_minutes_answers_how_to_use_it(spa):
    reply = await say("spa", "delay soon")
    assert "DELAY 20" in reply
    assert fits_one_segment(reply)


async def test_telegrams_slash_delay_is_the_same_command(spa):
    await say("ann", "join")
    reply = await say("spa", "/delay 10", channel=Channel.TELEGRAM)
    assert "Told 1 person" in reply
