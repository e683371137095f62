"""Live updates across entry points and processes: a change committed by a request wakes
this process's pages at once (core.services.line_events), and on PostgreSQL a second
server process's pages through NOTIFY, well before its version poll could."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import asyncpg
import pytest

from core import db
from core.services import line_events, service_accounts, sql, status_links
from tests.api_helpers import book, day_after, make_provider, make_user
from tests.conftest import ON_POSTGRES
from tests.fakes.twilio_api import Webhooks
from tests.server_process import serving
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    PROVIDER_PHONE,
    Sms,
    one_reply,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from tests.test_status_page import BASE, token_in
from webhooks.live import APPLICATION_NAME, LineHub, line_of, payload_of
from webhooks.state import INBOX

# Far longer than any wait below: only a wake-up, not the poll, can deliver in time.
SLOW_POLL = 30.0


@pytest.fixture(name="slow_poll_sms")
async def slow_poll_sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    settings = sms_settings(
        database_url, twilio_api.url, public_base_url=BASE, line_poll_interval=SLOW_POLL
    )
    sms = await start_sms(aiohttp_client, settings, twilio_api, engine=None)
    return Sms(sms.client, Webhooks(sms.client, BASE), sms.api, None)


async def data_events(content: aiohttp.StreamReader) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for raw in content:
        line = raw.decode().rstrip("\n")
        if line.startswith("data: "):
            data.append(line[6:])
        elif not line and data:
            yield json.loads("\n".join(data))
            data = []


async def _joined_with_token(sms: Sms) -> str:
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    await one_reply(sms, ANN, "join")
    token = token_in(await one_reply(sms, ANN, "Ann Bell"))
    # Stored with the reply just after the answer; another server reads it from the table.
    await sms.client.app[INBOX].replies.write()
    return token


def test_a_notification_names_one_line_and_anything_else_is_ignored():
    line = (42, date(2026, 12, 3))
    assert payload_of(line) == "42:2026-12-03"
    assert line_of(payload_of(line)) == line
    for junk in ("", "42", "x:2026-12-03", "42:2026-13-40", ":", "-1:2026-12-03"):
        assert line_of(junk) is None


def test_the_lines_a_block_changes_are_published_once_each_when_it_ends():
    published: list[set[tuple[int, date]]] = []
    day = date(2026, 12, 3)
    line_events.changed(1, day)  # nobody collects: nothing happens
    with line_events.collecting(lambda lines: published.append(set(lines))):
        line_events.changed(1, day)
        with line_events.collecting(lambda lines: published.append({(0, day)})):
            line_events.changed(2, day)
        line_events.changed(1, day)
        assert published == []
    assert published == [{(1, day), (2, day)}]


async def test_a_next_by_sms_reaches_a_page_of_the_same_process_at_once(slow_poll_sms):
    token = await _joined_with_token(slow_poll_sms)
    response = await slow_poll_sms.client.get(f"/s/{token}/events")
    stream = data_events(response.content)
    assert (await asyncio.wait_for(anext(stream), 2))["state"] == "waiting"

    await one_reply(slow_poll_sms, PROVIDER_PHONE, "next")
    called = await asyncio.wait_for(anext(stream), 2)
    assert called["state"] == "called"
    response.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="NOTIFY is PostgreSQL's; SQLite relies on the poll")
async def test_a_change_through_one_server_reaches_a_page_of_another_by_notify(
    slow_poll_sms, database_url, tmp_path, monkeypatch
):
    token = await _joined_with_token(slow_poll_sms)
    monkeypatch.setenv("LINE_POLL_INTERVAL", str(SLOW_POLL))
    with serving(database_url, tmp_path) as other:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{other.base}/s/{token}/events") as response,
        ):
            assert response.status == 200
            stream = data_events(response.content)
            assert (await asyncio.wait_for(anext(stream), 5))["state"] == "waiting"
            # The other server's LISTEN opens as it starts; give it a moment to be up.
            await asyncio.sleep(0.5)

            loop = asyncio.get_running_loop()
            started = loop.time()
            await one_reply(slow_poll_sms, PROVIDER_PHONE, "next")
            called = await asyncio.wait_for(anext(stream), 2)
            assert called["state"] == "called"
            assert loop.time() - started < 2 < SLOW_POLL


@pytest.mark.skipif(not ON_POSTGRES, reason="NOTIFY is PostgreSQL's; SQLite relies on the poll")
async def test_a_booking_by_the_api_notifies_after_its_commit_and_not_in_its_statements(
    client, database_url, monkeypatch
):
    provider = await make_provider(client)
    await make_user(client)
    other = LineHub(poll_interval=SLOW_POLL, listen=db.listen_params(database_url))
    await other.start()
    conn = sql.connection()
    sent: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(conn, name)

        async def counted(query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            sent.append(query)
            return await _original(query, *args, **kwargs)

        monkeypatch.setattr(conn, name, counted)
    try:
        await asyncio.wait_for(other.listening.wait(), 5)
        day = date.fromisoformat(day_after(1))
        async with other.watch(provider["id"], day) as watch:
            await book(client)
            assert await watch.wait(2)
    finally:
        await other.stop()
    assert sent, "the booking's statements were not counted"
    assert not [q for q in sent if "notify" in q.lower()]


@pytest.mark.skipif(not ON_POSTGRES, reason="NOTIFY is PostgreSQL's; SQLite relies on the poll")
async def test_a_lost_listen_connection_is_opened_again_and_the_watched_lines_read_at_once(orm):
    day = date(2026, 12, 3)
    params = db.listen_params(orm)
    assert params is not None
    sender = LineHub(poll_interval=SLOW_POLL, listen=params)
    hub = LineHub(poll_interval=SLOW_POLL, listen=params)
    await sender.start()
    await hub.start()
    killer = await asyncpg.connect(**params)
    try:
        await asyncio.wait_for(sender.listening.wait(), 5)
        await asyncio.wait_for(hub.listening.wait(), 5)
        async with hub.watch(1, day) as watch:
            await killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database() "
                "AND pid <> pg_backend_pid()",
                APPLICATION_NAME,
            )
            # Both hubs open their connections again; the watched line is read at once
            # (a change meanwhile would have gone unheard), which wakes its watcher.
            assert await watch.wait(3)
            await asyncio.wait_for(sender.listening.wait(), 3)
            await asyncio.wait_for(hub.listening.wait(), 3)
            sender.publish([(1, day)])
            assert await watch.wait(2)
    finally:
        await killer.close()
        await sender.stop()
        await hub.stop()


async def test_the_pages_of_one_line_woken_together_share_one_read_of_it(
    slow_poll_sms, monkeypatch
):
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    phones = [f"+1415555{n:04d}" for n in range(201, 206)]
    tokens = []
    for n, phone in enumerate(phones):
        await one_reply(slow_poll_sms, phone, "join")
        tokens.append(token_in(await one_reply(slow_poll_sms, phone, f"Cy Number{'x' * n}")))
    reads = 0
    original = status_links.line_snapshot

    async def counted(**kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await original(**kwargs)

    monkeypatch.setattr(status_links, "line_snapshot", counted)
    responses = [await slow_poll_sms.client.get(f"/s/{t}/events") for t in tokens]
    streams = [data_events(r.content) for r in responses]
    firsts = [await asyncio.wait_for(anext(s), 2) for s in streams]
    assert [f["position"] for f in firsts] == [1, 2, 3, 4, 5]
    # The five pages opened on one read of the line too (the process's StatusViews).
    assert reads == 1
    reads = 0

    await one_reply(slow_poll_sms, PROVIDER_PHONE, "next")
    after = [await asyncio.wait_for(anext(s), 2) for s in streams]

    assert [a["state"] for a in after] == ["called", "waiting", "waiting", "waiting", "waiting"]
    assert [a["position"] for a in after] == [None, 1, 2, 3, 4]
    assert reads == 1
    # The same quote STATUS texts.
    assert f", {after[1]['wait']}" in await one_reply(slow_poll_sms, phones[1], "status")
    for response in responses:
        response.close()
