"""What a provider's messages cost: messages sent per channel, SMS segments and the
estimated price, in the rules, the stats route and STATS by text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot import provider_replies
from core.models import OutboxMessage
from core.rules.days import utcnow
from core.rules.gsm import fits_one_segment
from core.rules.message_stats import MessageFigures, MessageTally
from core.rules.stats import Figures
from tests.api_helpers import data_of
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    one_reply,
    twilio_api_fixture,
)
from tests.whatsapp_support import deliver, joins, start_whatsapp, zen_spa

TWO_SEGMENTS = "x" * 161
UCS2 = "¿Cuántos faltan? " * 5  # 85 characters of UCS-2: two segments of 67


def test_sms_are_counted_in_segments_and_priced_and_other_channels_only_counted():
    tally = MessageTally()
    for channel, text in (
        ("sms", "Your turn"),
        ("sms", TWO_SEGMENTS),
        ("sms", UCS2),
        ("whatsapp", TWO_SEGMENTS),
        ("telegram", "Your turn"),
    ):
        tally.add(channel=channel, text=text)
    figures = tally.figures(price_per_segment=Decimal("0.0079"))
    assert figures.sent == {"sms": 3, "telegram": 1, "whatsapp": 1}
    assert figures.sms_segments == 5
    assert figures.estimated_cost == Decimal("0.0395")
    assert tally.figures(price_per_segment=None).estimated_cost is None


HUGE = Figures(10**6, 10**6, 10**6, 0.5, 99_999.5, 99_999.5, 99_999.5, 99_999.5)
TODAY = Figures(12, 2, 1, 0.08, 14, 20, 9, 3)
MANY = MessageFigures(
    {"sms": 10**6, "telegram": 10**6, "whatsapp": 10**6}, 10**7, Decimal("79000.0000")
)


def test_stats_say_what_the_sms_cost_in_one_segment_and_the_other_channels_when_they_fit():
    few = MessageFigures({"sms": 40, "whatsapp": 3}, 52, Decimal("0.4108"))
    quiet = Figures(4, 0, 1, 0.0, 5, 9, 7, None)
    text = provider_replies.stats(week=False, figures=quiet, messages=few)
    assert text.endswith(" Sent 40 SMS (52 seg, cost 0.41), 3 WhatsApp.")
    # Too long with every channel: SMS alone.
    more = MessageFigures({"sms": 40, "telegram": 2, "whatsapp": 3}, 52, Decimal("0.4108"))
    text = provider_replies.stats(week=True, figures=TODAY, messages=more)
    assert text.endswith(" Sent 40 SMS (52 seg, cost 0.41).")
    for figures in (HUGE, TODAY):
        assert fits_one_segment(provider_replies.stats(week=True, figures=figures, messages=MANY))
    unpriced = MessageFigures({"sms": 2}, 2, None)
    assert provider_replies.stats(week=False, figures=TODAY, messages=unpriced).endswith(
        " Sent 2 SMS (2 seg)."
    )


async def a_called_line(wa: Sms) -> None:
    """Ann waits by WhatsApp, Bob by SMS; the provider calls Ann: her turn goes by
    WhatsApp, Bob's "you're next" by SMS."""
    await zen_spa()
    await joins(wa, ANN, "Ann Bell")
    await joins(wa, BOB, "Bob Chen", on_whatsapp=False)
    await one_reply(wa, PROVIDER_PHONE, "next")
    await deliver(wa)


async def test_the_stats_route_counts_messages_per_channel_segments_and_cost(
    aiohttp_client: Any, database_url: str, twilio_api: Any
):
    wa = await start_whatsapp(
        aiohttp_client, database_url, twilio_api, sms_price_per_segment="0.0079"
    )
    await a_called_line(wa)
    # A reply (about no line) and a message still pending are not counted.
    assert await OutboxMessage.filter(service_account_id__isnull=False, status="sent").count() == 2
    today = utcnow().date().isoformat()
    response = await wa.client.get(
        f"/service-accounts/{PROVIDER_PHONE}/stats", params={"from": today, "to": today}
    )
    data = await data_of(response, 200)
    assert data["messages"] == {
        "sent": {"sms": 1, "whatsapp": 1},
        "sms_segments": 1,
        "estimated_cost": "0.0079",
    }
    assert " Sent 1 SMS (1 seg, cost 0.01), 1 WhatsApp." in await one_reply(
        wa, PROVIDER_PHONE, "stats"
    )


async def test_without_a_price_the_cost_is_not_shown(
    aiohttp_client: Any, database_url: str, twilio_api: Any
):
    wa = await start_whatsapp(aiohttp_client, database_url, twilio_api)
    await a_called_line(wa)
    today = utcnow().date().isoformat()
    response = await wa.client.get(
        f"/service-accounts/{PROVIDER_PHONE}/stats", params={"from": today, "to": today}
    )
    assert (await data_of(response, 200))["messages"]["estimated_cost"] is None
    stats = await one_reply(wa, PROVIDER_PHONE, "stats")
    assert stats.endswith(" Sent 1 SMS (1 seg), 1 WhatsApp.")
    assert "cost" not in stats
