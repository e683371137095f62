"""Two independent `waitlist serve` processes (two ports, as on two hosts behind a proxy)
on one PostgreSQL database behave as one server: the one-per-day race has one winner, a
booking through one is in the other's next queue page, and notices triggered through
both go out once each, never faster than SMS_MAX_PER_SECOND plus one in any one-second
window as the fake Twilio sees them.

Each server gets pools of POOL_SIZE (two pools a process, plus its LISTEN connection),
so the two servers, this test's own pool and the suite's admin connections stay far
under the shared server's max_connections (100) while other runs use it too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from core.models import OutboxMessage, OutboxStatus, PruneRun
from tests.api_helpers import data_of, today
from tests.conftest import ON_POSTGRES
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Webhooks
from tests.server_process import Served, serving
from tests.sms_support import OUR_NUMBER, PUBLIC
from tests.test_shared_pacing import most_in_one_second

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="several hosts share PostgreSQL")

POOL_SIZE = 3
RATE = 20
NOTICES_PER_SERVER = 150


def with_pool_size(database_url: str, size: int) -> str:
    parts = urlsplit(database_url)
    query = "&".join(q for q in (parts.query, f"minsize=1&maxsize={size}") if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass
class Host:
    served: Served
    session: aiohttp.ClientSession
    twilio: Webhooks


@contextlib.contextmanager
def two_servers(
    database_url: str, folder: Path, api_url: str, **extra: str
) -> Iterator[tuple[Served, Served]]:
    env = {
        **extra,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": api_url,
        "PUBLIC_BASE_URL": PUBLIC,
        "SMS_MAX_PER_SECOND": str(RATE),
    }
    url = with_pool_size(database_url, POOL_SIZE)
    with (
        serving(url, folder, env=env, name="a") as a,
        serving(url, folder, env=env, name="b") as b,
    ):
        yield a, b


@pytest.fixture
async def hosts(orm: str, tmp_path: Path) -> AsyncIterator[tuple[Host, Host, FakeTwilio]]:
    async with FakeTwilio() as api:
        with two_servers(orm, tmp_path, api.url) as servers:
            async with contextlib.AsyncExitStack() as stack:
                pair = []
                for served in servers:
                    session = await stack.enter_async_context(
                        aiohttp.ClientSession(base_url=served.base)
                    )
                    pair.append(Host(served, session, Webhooks(session, PUBLIC)))
                yield pair[0], pair[1], api


async def provider(host: Host, phone: str, code: str) -> None:
    payload = {"name": f"Shop {code}", "phone": phone, "code": code, "timezone": "UTC"}
    await data_of(await host.session.post("/service-accounts/", json=payload), 201)


async def customer(host: Host, phone: str) -> None:
    payload = {"name": f"Customer {phone[-4:]}", "phone": phone}
    await data_of(await host.session.post("/users/", json=payload), 201)


async def booking(host: Host, user: str, provider_phone: str) -> aiohttp.ClientResponse:
    payload = {
        "user_phone": user,
        "service_account_phone": provider_phone,
        "appointment_date": today().isoformat(),
    }
    return await host.session.post("/appointments/", json=payload)


async def queue_ids(host: Host, provider_phone: str) -> list[int]:
    response = await host.session.get(
        "/appointments/",
        params={"service_account_phone": provider_phone, "day": today().isoformat()},
    )
    return [a["id"] for a in await data_of(response, 200)]


async def test_the_one_per_day_race_across_two_servers_has_exactly_one_winner(hosts):
    a, b, _ = hosts
    await provider(a, "+12025550101", "ONE")
    await provider(b, "+12025550102", "TWO")
    await customer(a, "+14155550101")

    # The same customer, the same day, two providers, through both servers at once.
    attempts = [
        booking(host, "+14155550101", shop)
        for _ in range(5)
        for host, shop in ((a, "+12025550101"), (b, "+12025550102"))
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*attempts))

    assert statuses == [201] + [400] * 9


async def test_a_booking_through_one_server_is_in_the_others_next_queue_page(hosts):
    a, b, _ = hosts
    await provider(a, "+12025550101", "ONE")
    for n in range(5):
        phone = f"+1415555020{n}"
        await customer(a, phone)
        # B has just read (and may have cached) the page; A books; B's next read has it.
        before = await queue_ids(b, "+12025550101")
        booked = await data_of(await booking(a, phone, "+12025550101"), 201)
        after = await queue_ids(b, "+12025550101")
        assert after == [*before, booked["id"]]


async def until_sent(count: int, *, within: float) -> None:
    """Return once `count` rows are sent, or after `within` seconds (the servers write
    the database: poll it)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while True:
                if await OutboxMessage.filter(status=OutboxStatus.SENT).count() >= count:
                    return
                await asyncio.sleep(0.25)


async def test_notices_triggered_through_both_servers_go_out_once_each_at_the_shared_rate(
    hosts,
):
    a, b, api = hosts
    shops = [(a, "+12025550101", "ONE"), (b, "+12025550102", "TWO")]
    for host, shop, code in shops:
        await provider(host, shop, code)
    for host, shop, _ in shops:
        for n in range(NOTICES_PER_SERVER):
            phone = f"+1415{shop[-1]}{n:06d}"
            await customer(host, phone)
            await data_of(await booking(host, phone, shop), 201)

    # Each provider texts DELAY through its own server: everyone waiting is told, by
    # whichever server's dispatcher claims the notice. (Each message its own MessageSid:
    # one seen twice is a redelivery.)
    replies = await asyncio.gather(
        *(
            host.twilio.sms(sender=shop, body="DELAY 10", to=OUR_NUMBER, sid=f"SM{code:0>32}")
            for host, shop, code in shops
        )
    )
    assert [r.status for r in replies] == [200, 200]
    loop = asyncio.get_running_loop()
    began = loop.time()
    total = 2 * NOTICES_PER_SERVER
    await until_sent(total, within=total / RATE + 45)
    statuses = await OutboxMessage.all().values_list("status", flat=True)
    assert statuses.count(OutboxStatus.SENT) == total, (len(statuses), len(api.messages))
    took = loop.time() - began

    per_key = api.per_key()
    assert len(per_key) == total
    assert all(len(messages) == 1 for messages in per_key.values())
    assert api.duplicates == 0
    assert len(api.messages) == total
    arrivals = [m.created_at.timestamp() for m in api.messages]
    most = most_in_one_second(arrivals)
    assert most <= RATE + 1, f"{most} sends in one second at {RATE}/s"
    print(
        f"\n{total} notices through two servers in {took:.1f} s; "
        f"at most {most} in any second (rate {RATE})"
    )


PRUNE_EVERY = 2.0


async def test_the_hourly_prune_runs_on_one_server_only_each_interval(orm: str, tmp_path: Path):
    async with FakeTwilio() as api:
        with two_servers(orm, tmp_path, api.url, PRUNE_INTERVAL=str(PRUNE_EVERY)):
            # Both servers look PRUNE_EVERY seconds after they start; one is elected.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            while await PruneRun.filter(finished_at__isnull=False).count() == 0:
                assert loop.time() < deadline, "no prune ran"
                await asyncio.sleep(0.1)
            # Well within the interval: the other server looked too, and did not prune.
            await asyncio.sleep(PRUNE_EVERY / 2)
            runs = await PruneRun.all().order_by("id")

    assert len(runs) == 1
