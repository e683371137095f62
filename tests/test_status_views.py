"""Status pages drawn from memory while their line stands still (webhooks.status_views):
a page asked for again costs no read, and is never staler than the line's watch in the
hub; through the real app and engine by SMS, and the cache itself on a real database."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from core.models import Appointment
from core.rules.days import today_in, utcnow
from core.services import booking, line_ranks, service_accounts, status_links, users
from core.services.status_links import State, Visit
from tests.sms_support import ANN, BOB, PROVIDER_PHONE, one_reply
from tests.test_status_page import (  # noqa: F401 (fixtures)
    joined,
    linked_sms_fixture,
    page_of,
    provider_fixture,
    twilio_api_fixture,
)
from webhooks.live import LineHub
from webhooks.state import STATUS_VIEWS
from webhooks.status_views import IDLE, StatusViews


async def test_a_page_asked_again_while_its_line_stands_still_is_drawn_from_memory(
    linked_sms, provider
):
    token = await joined(linked_sms, ANN, "Ann Bell")
    views = linked_sms.client.app[STATUS_VIEWS]
    first = await page_of(linked_sms, token)
    reads = views.reads

    again = await page_of(linked_sms, token)

    assert again == first
    assert views.reads == reads
    assert views.hits >= 1


async def test_a_change_made_by_text_in_this_process_shows_on_the_next_page_at_once(
    linked_sms, provider
):
    ann = await joined(linked_sms, ANN, "Ann Bell")
    bob = await joined(linked_sms, BOB, "Bob Chu")
    assert "You&#39;re in line" in await page_of(linked_sms, ann)
    before = await page_of(linked_sms, bob)

    await one_reply(linked_sms, PROVIDER_PHONE, "next")

    assert "It&#39;s your turn" in await page_of(linked_sms, ann)
    assert await page_of(linked_sms, bob) != before


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _line_with_links(phone: str, provider_phone: str, count: int) -> list[str]:
    """`count` customers waiting for `provider_phone` today, and a link for each."""
    account = await service_accounts.create_service_account(
        phone=provider_phone, name=f"Shop {provider_phone[-4:]}"
    )
    day = today_in(account.timezone, now=utcnow())
    tokens = []
    for n in range(count):
        customer = f"{phone[:-2]}{n:02d}"
        await users.create_user(name=f"Customer {n}", phone=customer)
        view = await booking.book(
            user_phone=customer, service_account_phone=provider_phone, appointment_date=day
        )
        tokens.append(await status_links.issue(appointment_id=view.id, day=day))
    return tokens


@pytest.fixture(name="views")
async def views_fixture(orm: str) -> Any:
    hub = LineHub(poll_interval=0.05)
    clock = Clock()
    views = StatusViews(hub, ranks=line_ranks.RankCache(), ttl=10.0, max_lines=2, clock=clock)
    await hub.start()
    try:
        yield views, hub, clock
    finally:
        views.close()
        await hub.stop()


async def test_a_change_that_no_one_published_shows_once_the_hub_polls_its_version(views):
    cache, _, _ = views
    [first, second] = await _line_with_links("+14155550100", "+14155559001", 2)
    found = await cache.visit(second)
    assert isinstance(found, Visit)
    assert found.spot is not None
    assert found.spot.position == 2

    # As another process or plain SQL would: the line changes, nothing is published.
    link = await status_links.link(key=status_links.key_of(first) or "")
    assert link is not None
    await Appointment.filter(id=link.appointment_id).update(called_at=utcnow())

    async def moved_up() -> None:
        while True:
            now = await cache.visit(second)
            if isinstance(now, Visit) and now.spot is not None and now.spot.position == 1:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(moved_up(), 5)
    called = await cache.visit(first)
    assert isinstance(called, Visit)
    assert called.state is State.CALLED


async def test_a_held_snapshot_is_read_again_once_its_ttl_has_passed(views):
    cache, _hub, clock = views
    [token] = await _line_with_links("+14155550200", "+14155559002", 1)
    await cache.visit(token)
    # Let the hub's first poll of the line (which wakes it once) pass.
    await asyncio.sleep(0.2)
    await cache.visit(token)
    reads = cache.reads

    await cache.visit(token)
    assert cache.reads == reads
    clock.now += 10.5
    await cache.visit(token)

    assert cache.reads == reads + 1


async def test_lines_past_the_bound_or_left_idle_are_let_go(views):
    cache, hub, clock = views
    tokens = [
        (await _line_with_links(f"+1415555{n + 5}100", f"+1415555900{n + 3}", 1))[0] for n in range(3)
    ]
    for token in tokens:
        await cache.visit(token)
    assert hub.watched == 2

    clock.now += IDLE + 1
    await cache.visit(tokens[0])

    assert hub.watched == 1


async def test_a_link_whose_appointment_moved_to_another_day_is_read_directly(views):
    cache, _, _ = views
    [token] = await _line_with_links("+14155550400", "+14155559006", 1)
    link = await status_links.link(key=status_links.key_of(token) or "")
    assert link is not None
    await Appointment.filter(id=link.appointment_id).update(day=date(2099, 1, 5))

    assert await cache.visit(token) == await status_links.visit(token=token)


async def test_a_malformed_or_unknown_token_finds_nothing(views):
    cache, _, _ = views
    assert await cache.visit("not a token") is None
    assert await cache.visit("A" * 22) is None
