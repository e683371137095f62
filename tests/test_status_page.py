"""The customer's status page, /s/<token>: the link a join or STATUS text carries, what
the page shows (and never shows), its forms, and its live event stream; through the
real app on loopback, the real engine by SMS and a fake Twilio."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.models import Appointment, Status, StatusLink
from core.rules.days import utcnow
from core.rules.gsm import fits_one_segment
from core.services import service_accounts, status_links
from tests.fakes.twilio_api import Webhooks
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    deliver_outbox,
    one_reply,
    replies_in,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)
from webhooks.log_filters import MaskPhones
from webhooks.pages import status as status_page
from webhooks.state import INBOX

# The longest base URL the join reply must fit one segment with.
BASE = "https://queue.clinic-example.org"
assert len(BASE) == 32
_LINK = re.compile(re.escape(BASE) + r"/s/([A-Za-z0-9_-]+)")


@pytest.fixture(name="linked_sms")
async def linked_sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    """The app with SMS on, the real engine, and a 32-character PUBLIC_BASE_URL."""
    settings = sms_settings(database_url, twilio_api.url, public_base_url=BASE)
    sms = await start_sms(aiohttp_client, settings, twilio_api, engine=None)
    # Twilio signs the URL it was given: the one under PUBLIC_BASE_URL.
    return replace(sms, twilio=Webhooks(sms.client, BASE))


def token_in(text: str) -> str:
    found = _LINK.search(text)
    assert found, text
    return found[1]


async def joined(sms: Sms, phone: str, name: str) -> str:
    """`phone` joins the line as `name`; the token its reply carries."""
    await one_reply(sms, phone, "join")
    return token_in(await one_reply(sms, phone, name))


def same_origin(sms: Sms) -> dict[str, str]:
    return {"Origin": str(sms.client.make_url("/")).rstrip("/")}


async def page_of(sms: Sms, token: str, status: int = 200) -> str:
    response = await sms.client.get(f"/s/{token}")
    body = await response.text()
    assert response.status == status, body
    assert response.content_type == "text/html"
    return body


@pytest.fixture(name="provider")
async def provider_fixture() -> None:
    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")


async def test_a_join_by_sms_carries_the_link_in_one_segment_with_a_32_character_base(
    linked_sms, provider
):
    await one_reply(linked_sms, ANN, "join")
    reply = await one_reply(linked_sms, ANN, "Ann Bell")

    assert reply.startswith("You're in line at Zen Spa today: #1, 0 ahead")
    assert f" Live: {BASE}/s/" in reply
    assert fits_one_segment(reply)


async def test_tokens_are_url_safe_have_128_bits_and_only_their_digest_is_stored(
    linked_sms, provider
):
    token = await joined(linked_sms, ANN, "Ann Bell")
    # Links given in answers are stored with the replies, after the answer.
    await linked_sms.client.app[INBOX].replies.write()

    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", token)  # 16 bytes from secrets: 128 bits
    [row] = await StatusLink.all().values()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(row, default=str)


async def test_status_sends_a_fresh_link_and_the_earlier_one_stays_valid(linked_sms, provider):
    first = await joined(linked_sms, ANN, "Ann Bell")
    reply = await one_reply(linked_sms, ANN, "status")
    second = token_in(reply)

    assert reply.startswith("Zen Spa today: #1, 0 ahead")
    assert second != first
    for token in (first, second):
        assert "You&#39;re in line" in await page_of(linked_sms, token)


async def test_a_join_whose_reply_and_link_do_not_fit_sends_the_link_in_a_second_message(
    linked_sms, provider, twilio_api
):
    await one_reply(linked_sms, ANN, "join")
    # A time asked for keeps its "no set times" answer whole: the link follows it.
    await one_reply(linked_sms, ANN, "Ann Bell")
    await one_reply(linked_sms, BOB, "join at 3pm")
    reply = await one_reply(linked_sms, BOB, "Bob Carter")

    assert "No set times" in reply
    assert BASE not in reply
    await deliver_outbox(linked_sms)
    [link] = [m.body for m in twilio_api.messages if m.to == BOB]
    assert link.startswith(f"Your place in line, live: {BASE}/s/")
    assert fits_one_segment(link)
    assert "#2" not in await page_of(linked_sms, token_in(link))  # Bob's page, not Ann's
    assert '<dd id="position">2</dd>' in await page_of(linked_sms, token_in(link))


async def test_the_page_shows_place_position_ahead_wait_and_state_and_nobody_elses_data(
    linked_sms, provider
):
    await joined(linked_sms, ANN, "Ann Bell")
    bob = await joined(linked_sms, BOB, "Bob Carter")

    body = await page_of(linked_sms, bob)
    assert 'lang="en"' in body
    assert "Zen Spa" in body
    assert '<dd id="position">2</dd>' in body
    assert '<dd id="ahead">1</dd>' in body
    assert "min wait" in body or "no wait" in body
    for other in ("Ann", "Bell", ANN, ANN[-4:], BOB, "Carter"):
        assert other not in body


async def test_a_wrong_token_or_an_ended_day_shows_nothing_of_anyone(linked_sms, provider):
    token = await joined(linked_sms, ANN, "Ann Bell")

    for wrong in ("x" * 22, "short", token[:-1] + ("A" if token[-1] != "A" else "B"), "%00" * 8):
        body = await page_of(linked_sms, wrong, 404)
        assert "Zen Spa" not in body
        assert "Ann" not in body

    await linked_sms.client.app[INBOX].replies.write()
    tomorrow = utcnow() + timedelta(days=2)
    assert await status_links.visit(token=token, now=tomorrow) is status_links.ENDED
    await StatusLink.all().update(day=utcnow().date() - timedelta(days=2))
    body = await page_of(linked_sms, token, 404)
    assert "This visit has ended" in body
    assert "Zen Spa" not in body
    assert (await linked_sms.client.get(f"/s/{token}/events")).status == 404


async def test_here_once_called_and_running_late_go_through_the_services(linked_sms, provider):
    ann = await joined(linked_sms, ANN, "Ann Bell")
    body = await page_of(linked_sms, ann)
    assert 'id="here-form"' in body
    assert "I'm here" in body
    assert re.search(r'<form id="here-form"[^>]*hidden', body)

    response = await linked_sms.client.post(
        f"/s/{ann}/late", headers=same_origin(linked_sms), allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/s/{ann}?said=late"

    assert "Called Ann B." in await one_reply(linked_sms, PROVIDER_PHONE, "next")
    body = await page_of(linked_sms, ann)
    assert "It&#39;s your turn" in body
    assert not re.search(r'<form id="here-form"[^>]*hidden', body)

    response = await linked_sms.client.post(
        f"/s/{ann}/here", headers=same_origin(linked_sms), allow_redirects=False
    )
    assert response.status == 303
    appointment = await Appointment.get(user__phone=ANN)
    assert appointment.confirmed_at is not None
    assert "They know you" in await page_of(linked_sms, f"{ann}?said=here")


async def test_leave_asks_first_then_leaves_the_line(linked_sms, provider):
    ann = await joined(linked_sms, ANN, "Ann Bell")

    confirm = await page_of(linked_sms, f"{ann}/leave")
    assert "Yes, leave the line" in confirm
    assert (await Appointment.get(user__phone=ANN)).status is Status.ACTIVE

    response = await linked_sms.client.post(
        f"/s/{ann}/leave", headers=same_origin(linked_sms), allow_redirects=False
    )
    assert response.status == 303
    assert (await Appointment.get(user__phone=ANN)).status is Status.CANCELED
    body = await page_of(linked_sms, ann)
    assert "You left the line" in body
    assert re.search(r'<form id="leave-form"[^>]*hidden', body)


async def test_a_cross_origin_post_is_refused_with_403_and_changes_nothing(linked_sms, provider):
    ann = await joined(linked_sms, ANN, "Ann Bell")

    for action in ("leave", "late", "here"):
        for headers in ({"Origin": "https://evil.example.net"}, {}):
            response = await linked_sms.client.post(f"/s/{ann}/{action}", headers=headers)
            assert response.status == 403
    appointment = await Appointment.get(user__phone=ANN)
    assert appointment.status is Status.ACTIVE
    assert appointment.late_moves == 0


async def test_a_post_for_a_visit_that_moved_on_is_a_clear_409(linked_sms, provider):
    ann = await joined(linked_sms, ANN, "Ann Bell")
    response = await linked_sms.client.post(f"/s/{ann}/here", headers=same_origin(linked_sms))
    assert response.status == 409
    assert "Not possible now" in await response.text()


async def _events(response: Any) -> Any:
    """The data of each event the stream sends, as JSON (comments skipped)."""
    data: list[str] = []
    while True:
        line = (await response.content.readline()).decode()
        if line == "":
            return
        line = line.rstrip("\n")
        if line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            yield json.loads("\n".join(data))
            data = []


async def test_the_event_stream_sends_the_state_at_once_and_again_after_next_by_sms(
    linked_sms, provider
):
    ann = await joined(linked_sms, ANN, "Ann Bell")
    response = await linked_sms.client.get(f"/s/{ann}/events")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    stream = _events(response)

    first = await asyncio.wait_for(anext(stream), 2)
    assert first["state"] == "waiting"
    assert first["position"] == 1

    await one_reply(linked_sms, PROVIDER_PHONE, "next")
    called = await asyncio.wait_for(anext(stream), 2)
    assert called["state"] == "called"
    assert called["headline"] == "It's your turn"
    assert called["can_here"] is True
    response.close()


def test_a_status_link_in_a_log_line_shows_no_token():
    token = "AbCdEfGhIjKlMnOpQrStUv"
    record = logging.LogRecord(
        "aiohttp.access", logging.INFO, __file__, 1, '"GET /s/%s/events HTTP/1.1" 200', (token,), None
    )
    MaskPhones().filter(record)
    assert token not in record.getMessage()
    assert "/s/***/events" in record.getMessage()


async def test_status_with_two_spots_sends_a_link_to_the_soonest_as_a_second_message(
    linked_sms, provider, twilio_api
):
    await joined(linked_sms, ANN, "Ann Bell")
    await one_reply(linked_sms, ANN, "join tomorrow")

    reply = await one_reply(linked_sms, ANN, "status")
    assert reply.startswith("Your spots: ")
    assert BASE not in reply
    await deliver_outbox(linked_sms)
    [link] = [m.body for m in twilio_api.messages if m.to == ANN and BASE in m.body]
    assert fits_one_segment(link)
    body = await page_of(linked_sms, token_in(link))
    assert '<span id="day">today</span>' in body



async def test_a_place_named_like_a_script_renders_as_text(linked_sms):
    await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="<script>alert(1)</script>", code="SPA"
    )
    token = await joined(linked_sms, ANN, "Ann Bell")
    body = await page_of(linked_sms, token)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(1)" in body


async def test_an_idle_event_stream_sends_heartbeat_comments(linked_sms, provider, monkeypatch):
    monkeypatch.setattr(status_page, "HEARTBEAT_SECONDS", 0.2)
    ann = await joined(linked_sms, ANN, "Ann Bell")
    response = await linked_sms.client.get(f"/s/{ann}/events")
    lines = []
    while ": heartbeat\n" not in lines:
        lines.append((await asyncio.wait_for(response.content.readline(), 2)).decode())
    assert lines[0].startswith("data: ")
    response.close()
