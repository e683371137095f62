"""The console live: GET /console/events sends the line at once, then after every
change (a button on another console, or a text), and a heartbeat in between."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.rules.days import today_in, utcnow
from core.services import booking, service_accounts, users
from tests.console_support import ConsoleUser, sign_in
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    one_reply,
    real_sms_fixture,
    twilio_api_fixture,
)
from webhooks.pages import console

DESK = "+14155550160"


async def _line() -> None:
    account = await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", staff_phones=[DESK]
    )
    today = today_in(account.timezone, now=utcnow())
    for phone, name in ((ANN, "Ann Bell"), (BOB, "Bob Carter")):
        await users.register(phone=phone, name=name)
        await booking.add_to_line(user_phone=phone, account=account, day=today)


async def _event(stream: Any, within: float = 10.0) -> str:
    """The next event or comment of the stream, as sent."""
    return (await asyncio.wait_for(stream.content.readuntil(b"\n\n"), within)).decode()


async def _events(user: ConsoleUser) -> Any:
    stream = await user.sms.client.get(
        "/console/events", headers={"Cookie": f"console_session={user.cookies['console_session']}"}
    )
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    return stream


async def test_a_second_console_sees_a_button_pressed_on_the_first(real_sms):
    await _line()
    provider, desk = ConsoleUser(real_sms), ConsoleUser(real_sms)
    await sign_in(provider, PROVIDER_PHONE)
    await sign_in(desk, DESK)
    stream = await _events(desk)
    first = await _event(stream)
    assert first.startswith("event: line\n")
    assert "Nobody is being served" in first
    await provider.press("next")
    changed = await _event(stream)
    assert "Nobody is being served" not in changed
    assert "Ann Bell" in changed.split("Waiting")[0]
    stream.close()


async def test_a_text_from_the_provider_reaches_an_open_console(real_sms):
    await _line()
    desk = ConsoleUser(real_sms)
    await sign_in(desk, DESK)
    stream = await _events(desk)
    await _event(stream)
    await one_reply(real_sms, PROVIDER_PHONE, "NEXT")
    # Another process's change is found by the hub's version poll (1 s).
    changed = await _event(stream)
    while "Nobody is being served" in changed:
        changed = await _event(stream)
    assert "Ann Bell" in changed.split("Waiting")[0]
    stream.close()


async def test_a_quiet_line_gets_a_heartbeat_comment(real_sms, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(console, "HEARTBEAT_SECONDS", 0.2)
    await _line()
    desk = ConsoleUser(real_sms)
    await sign_in(desk, DESK)
    stream = await _events(desk)
    await _event(stream)
    seen = [await _event(stream) for _ in range(3)]
    assert ": heartbeat\n\n" in seen
    stream.close()


async def test_the_events_need_a_session(real_sms):
    response = await real_sms.client.get("/console/events")
    assert response.status == 401


async def test_a_stream_ends_once_its_session_is_signed_out(
    real_sms, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(console, "HEARTBEAT_SECONDS", 0.2)
    await _line()
    desk = ConsoleUser(real_sms)
    await sign_in(desk, DESK)
    stream = await _events(desk)
    await _event(stream)
    await desk.post("/console/sign-out", {})
    # The server ends the stream at its next heartbeat: reading to the end returns.
    await asyncio.wait_for(stream.content.read(), 10)
    assert stream.content.at_eof()
