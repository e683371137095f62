"""The lobby board over real HTTP: /board/<code> shows "Now serving" and the next few
waiting as "Ann L.", the wait for someone joining now, a JOIN footer with its QR code;
private boards open with a rotatable key; names render as text; the event stream sends
the state at once and again after a NEXT."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.services import calling
from core.settings import Settings
from tests.api_helpers import PROVIDER, book, data_of, make_provider, make_user, today

CAROL = "+14155550103"
OUR_NUMBER = "+15005550006"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, twilio_from_number=OUR_NUMBER
    )


async def _line(client: Any, **provider: Any) -> None:
    await make_provider(client, code="SPA", **provider)
    for phone, name in (
        ("+14155550101", "Ann Lee"),
        ("+14155550102", "Bob Stone"),
        (CAROL, "Carol"),
    ):
        await make_user(client, phone=phone, name=name)
        await book(client, user=phone, day=today().isoformat())


async def test_the_board_shows_who_is_called_who_is_next_and_the_wait_for_joining_now(client):
    await _line(client)
    await calling.call_next(service_account_phone=PROVIDER)
    response = await client.get("/board/spa")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = await response.text()
    serving = page.split("board-serving-list", 1)[1].split("</ol>", 1)[0]
    waiting = page.split("board-waiting-list", 1)[1].split("</ol>", 1)[0]
    assert "Now serving" in page
    assert "<li>Ann L.</li>" in serving
    assert "<li>Bob S.</li><li>Carol</li>" in waiting
    assert "Ann Lee" not in page
    # Two waiting with 30 booked minutes each: a newcomer is quoted an hour.
    assert "about 1h 00m wait" in page


async def test_an_unknown_code_is_a_404_page(client):
    response = await client.get("/board/NOPE")
    assert response.status == 404
    assert "No such board" in await response.text()


async def test_the_footer_says_what_to_text_with_a_segno_qr_code_of_the_sms_link(client):
    await _line(client)
    page = await (await client.get("/board/SPA")).text()
    assert f"Text JOIN SPA to {OUR_NUMBER}" in page
    assert f'href="sms:{OUR_NUMBER}?body=JOIN%20SPA"' in page
    assert 'class="segno qr"' in page
    assert "<path" in page


async def test_without_a_number_to_text_there_is_no_footer(aiohttp_client, database_url):
    from webhooks.app import create_app

    plain = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    client = await aiohttp_client(create_app(plain))
    await _line(client)
    page = await (await client.get("/board/SPA")).text()
    assert "Text JOIN" not in page
    assert "segno" not in page


async def test_a_customer_named_like_a_script_shows_as_text(client):
    await make_provider(client, code="SPA")
    await make_user(client, phone=CAROL, name="<script>alert(1)</script>")
    await book(client, user=CAROL, day=today().isoformat())
    page = await (await client.get("/board/SPA")).text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_private_board_needs_its_key_and_a_rotated_key_replaces_the_old(client):
    await _line(client, board_public=False)
    refused = await client.get("/board/SPA")
    assert refused.status == 403
    assert "private" in (await refused.text()).lower()
    assert (await client.get("/board/SPA/events")).status == 403

    first = await data_of(await client.post(f"/service-accounts/{PROVIDER}/board-key"), 200)
    assert len(first["key"]) >= 22
    assert first["board_url"] == f"/board/SPA?key={first['key']}"
    opened = await client.get("/board/SPA", params={"key": first["key"]})
    assert opened.status == 200
    assert f"/board/SPA/events?key={first['key']}" in await opened.text()

    second = await data_of(await client.post(f"/service-accounts/{PROVIDER}/board-key"), 200)
    assert second["key"] != first["key"]
    stale = await client.get("/board/SPA", params={"key": first["key"]})
    assert stale.status == 403
    assert "not valid" in await stale.text()
    assert (await client.get("/board/SPA", params={"key": second["key"]})).status == 200
    assert (await client.get("/board/SPA", params={"key": ""})).status == 403


async def test_the_board_key_is_stored_hashed_and_shown_in_the_provider_as_nothing(client):
    from core.models import ServiceAccount

    await make_provider(client, code="SPA", board_public=False)
    made = await data_of(await client.post(f"/service-accounts/{PROVIDER}/board-key"), 200)
    stored = await ServiceAccount.get(phone=PROVIDER)
    assert stored.board_key_hash is not None
    assert made["key"] not in stored.board_key_hash
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["board_public"] is False
    assert "board_key_hash" not in read


async def test_rotating_the_key_of_an_unknown_provider_is_a_404(client):
    response = await client.post("/service-accounts/+14155550199/board-key")
    assert response.status == 404


@pytest.mark.parametrize(
    "fields", [{"board_public": None}, {"board_names": "faces"}, {"board_public": "maybe"}]
)
async def test_a_bad_board_setting_is_refused_with_a_4xx(client, fields):
    response = await client.post(
        "/service-accounts/", json={"name": "Spa", "phone": PROVIDER, **fields}
    )
    assert 400 <= response.status < 500
    await make_provider(client)
    changed = await client.put(f"/service-accounts/{PROVIDER}", json=fields)
    assert 400 <= changed.status < 500


async def test_the_board_settings_are_in_the_openapi_document(client):
    spec = await (await client.get("/openapi.json")).json()
    fields = spec["components"]["schemas"]["ServiceAccountCreate"]["properties"]
    assert {"board_public", "board_names"} <= set(fields)
    assert "/service-accounts/{phone}/board-key" in spec["paths"]


async def _next_event(stream: Any) -> dict[str, Any]:
    """The data of the stream's next `board` event (heartbeats and retry lines skipped)."""
    event = None
    while True:
        line = (await stream.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "board":
            data: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return data


async def test_the_event_stream_sends_the_state_at_once_and_again_after_a_next(client):
    await _line(client)
    stream = await client.get("/board/SPA/events")
    assert stream.status == 200
    assert stream.headers["Content-Type"] == "text/event-stream"
    first = await asyncio.wait_for(_next_event(stream), 5)
    assert first["serving"] == []
    assert first["waiting"] == ["Ann L.", "Bob S.", "Carol"]
    await calling.call_next(service_account_phone=PROVIDER)
    after = await asyncio.wait_for(_next_event(stream), 5)
    assert after["serving"] == ["Ann L."]
    assert after["waiting"] == ["Bob S.", "Carol"]
    stream.close()


async def test_a_reconnecting_board_gets_the_current_state_at_once(client):
    await _line(client)
    await calling.call_next(service_account_phone=PROVIDER)
    stream = await client.get("/board/SPA/events")
    state = await asyncio.wait_for(_next_event(stream), 5)
    assert state["serving"] == ["Ann L."]
    stream.close()


async def test_a_quiet_stream_sends_a_heartbeat_comment(client, monkeypatch):
    from webhooks.pages import board

    monkeypatch.setattr(board, "HEARTBEAT_SECONDS", 0.2)
    await _line(client)
    stream = await client.get("/board/SPA/events")
    await asyncio.wait_for(_next_event(stream), 5)

    async def heartbeat() -> None:
        while (await stream.content.readline()) != b": heartbeat\n":
            pass

    await asyncio.wait_for(heartbeat(), 5)
    stream.close()


async def test_a_code_too_long_or_strange_is_a_404_page_not_an_error(client):
    for code in ("A" * 300, "%00", "ÅÄÖ", "spa'--"):
        response = await client.get(f"/board/{code}")
        assert response.status == 404, code
        assert "No such board" in await response.text()


async def test_now_serving_lists_the_three_latest_called_the_latest_first(client):
    await make_provider(client, code="SPA")
    for n in range(1, 6):
        phone = f"+1415555{n:04d}"
        await make_user(client, phone=phone, name=f"Person{n} Lee")
        await book(client, user=phone, day=today().isoformat())
    for _ in range(4):
        await calling.call_next(service_account_phone=PROVIDER)
    stream = await client.get("/board/SPA/events")
    state = await asyncio.wait_for(_next_event(stream), 5)
    assert state["serving"] == ["Person4 L.", "Person3 L.", "Person2 L."]
    assert state["waiting"] == ["Person5 L."]
    stream.close()


async def test_many_boards_of_one_line_share_one_read_per_change(client, monkeypatch):
    from core.services import boards

    await _line(client)
    streams = [await client.get("/board/SPA/events") for _ in range(8)]
    for stream in streams:
        await asyncio.wait_for(_next_event(stream), 5)
    # Let each line's first poll (which wakes its watchers too) pass.
    await asyncio.sleep(1.5)
    reads = 0
    real_read = boards.read

    async def counted(**kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real_read(**kwargs)

    monkeypatch.setattr(boards, "read", counted)
    await calling.call_next(service_account_phone=PROVIDER)
    states = await asyncio.gather(*(asyncio.wait_for(_next_event(s), 5) for s in streams))
    assert all(state["serving"] == ["Ann L."] for state in states)
    assert 1 <= reads <= 2, reads
    for stream in streams:
        stream.close()
