"""Fixtures for the SMS tests: the real app on loopback, a fake Twilio API for it to
send through, and a Twilio-like caller that signs the webhooks it posts."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from bot.reply import Reply
from core.models import Channel
from core.rules.gsm import fits_one_segment
from core.services.outbox.dispatcher import Dispatcher
from core.settings import Settings
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Webhooks
from webhooks.app import create_app
from webhooks.sms import SMS
from webhooks.state import INBOX

PUBLIC = "https://waitlist.example.com"
OUR_NUMBER = "+15005550006"
PROVIDER_PHONE = "+12025550179"
ANN = "+14155550101"
BOB = "+14155550102"


def sms_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": OUR_NUMBER,
        "twilio_api_base_url": api_url,
        "public_base_url": PUBLIC,
        "sms_max_per_second": 1000,
        # These tests drive delivery themselves with Dispatcher.run_once.
        "outbox_dispatcher": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RecordingEngine:
    """Stands in for bot.engine.handle_message and remembers what it was asked."""

    reply: str = "Got it."
    fail: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        *,
        channel: Channel,
        phone: str,
        text: str,
        default_provider_phone: str | None = None,
        now: datetime | None = None,
        reading: Any = None,
        who: Any = None,
        menus: bool = False,
        ranks: Any = None,
        link_base: str | None = None,
        sms_price: Any = None,
    ) -> Reply:
        self.calls.append(
            {
                "channel": channel,
                "phone": phone,
                "text": text,
                "default_provider_phone": default_provider_phone,
            }
        )
        if self.fail:
            raise RuntimeError("engine exploded")
        return Reply(self.reply)


@dataclass
class Sms:
    client: Any
    twilio: Webhooks
    api: FakeTwilio
    engine: RecordingEngine | None

    async def text(self, sender: str, body: str, *, to: str = OUR_NUMBER, **options: Any) -> Any:
        return await self.twilio.sms(sender=sender, body=body, to=to, **options)


_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)


async def replies_in(response: Any) -> list[str]:
    """The texts of a TwiML answer (XML-unescaped), after checking it is TwiML."""
    assert response.status == 200, await response.text()
    assert response.content_type == "application/xml"
    body = await response.text()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
    return [html.unescape(m) for m in _MESSAGE.findall(body)]


# Imported by the test modules under these names; pytest knows them by `name`, and the
# test parameters do not shadow the imports.
@pytest.fixture(name="twilio_api")
async def twilio_api_fixture() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


async def start_sms(
    aiohttp_client: Any,
    settings: Settings,
    api: FakeTwilio,
    *,
    engine: RecordingEngine | None,
) -> Sms:
    app = create_app(settings)
    client = await aiohttp_client(app)
    if engine is not None:
        app[INBOX].engine = engine
    return Sms(client=client, twilio=Webhooks(client, PUBLIC), api=api, engine=engine)


@pytest.fixture(name="sms")
async def sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: FakeTwilio) -> Sms:
    """The app with the SMS channel on and a recording engine in place of the real one."""
    return await start_sms(
        aiohttp_client,
        sms_settings(database_url, twilio_api.url),
        twilio_api,
        engine=RecordingEngine(),
    )


@pytest.fixture(name="real_sms")
async def real_sms_fixture(aiohttp_client: Any, database_url: str, twilio_api: FakeTwilio) -> Sms:
    """The app with the SMS channel on and the real engine."""
    return await start_sms(
        aiohttp_client, sms_settings(database_url, twilio_api.url), twilio_api, engine=None
    )


async def one_reply(sms: Sms, sender: str, body: str) -> str:
    """The one reply to a text, checked to fit one SMS segment."""
    [reply] = await replies_in(await sms.text(sender, body))
    assert fits_one_segment(reply), reply
    return reply


async def deliver_outbox(sms: Sms) -> None:
    """Run the outbox's dispatcher over the app's SMS transport until nothing is due."""
    while await Dispatcher({Channel.SMS: sms.client.app[SMS].transport}).run_once():
        pass
