"""Fixtures and helpers for the Telegram tests: the app under test talks to a fake Bot API
on loopback; `TelegramUser` writes updates the way Telegram would deliver them."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.models import Channel, OutboxMessage, ServiceAccount
from core.rules.days import utcnow
from core.settings import Settings
from tests.fakes.telegram_api import TOKEN, Call, FakeTelegramAPI
from webhooks.app import create_app
from webhooks.telegram import CHANNEL, PATH, SECRET_HEADER

SECRET = "test-Webhook_secret-42"
PROVIDER_PHONE = "+12025550179"
# What a provider's console buttons type: the words a provider would send.
PROVIDER_CONSOLE_WORDS = {
    "NEXT",
    "DONE",
    "NOSHOW",
    "QUEUE",
    "UNDO",
    "CLOSE",
    "OPEN",
    "DELAY 15",
    "DELAY 0",
}


def telegram_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_base_url": api_url,
        "public_base_url": "https://waitlist.example",
        # These tests drive delivery themselves with Dispatcher.run_once.
        "outbox_dispatcher": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


_update_ids = itertools.count(500_000)


@dataclass
class TelegramUser:
    """Someone in a private chat with the bot (in a private chat, chat id == user id)."""

    bot: Bot
    user_id: int
    phone: str
    first_name: str = "Ann"
    # Telegram leaves last_name out of a contact when the person has none.
    last_name: str | None = "Lee"
    # The language their Telegram app is set to (an IETF tag); None: not sent.
    language_code: str | None = None

    @property
    def chat_id(self) -> int:
        return self.user_id

    def _sender(self) -> dict[str, Any]:
        sender = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        return sender | ({"language_code": self.language_code} if self.language_code else {})

    def _chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": "private", "first_name": self.first_name}

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(_update_ids),
            "date": 1_700_000_000,
            "chat": self._chat(),
            "from": self._sender(),
            **content,
        }

    async def says(self, text: str, *, update_id: int | None = None) -> Any:
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message = self._message(text=text, entities=entities)
        return await self.bot.deliver({"update_id": update_id, "message": message})

    async def shares_contact(self, phone: str | None = None, *, owner_id: int | None = None) -> Any:
        contact: dict[str, Any] = {
            "phone_number": (phone or self.phone).lstrip("+"),
            "first_name": self.first_name,
            "user_id": self.user_id if owner_id is None else owner_id,
        }
        if self.last_name is not None:
            contact["last_name"] = self.last_name
        return await self.bot.deliver({"message": self._message(contact=contact)})

    async def presses(self, data: str, *, on: Call | None = None) -> Any:
        """Press the button with callback data `data` under message `on` (default: the last)."""
        pressed = on or self.bot.api.last(self.chat_id)
        message = {
            "message_id": pressed.result_id,
            "date": 1_700_000_000,
            "chat": self._chat(),
            "from": {"id": 1, "is_bot": True, "first_name": "Waitlist"},
            "text": pressed.params.get("text", ""),
        }
        query = {
            "id": f"cq{next(_update_ids)}",
            "from": self._sender(),
            "chat_instance": f"ci{self.chat_id}",
            "message": message,
            "data": data,
        }
        return await self.bot.deliver({"callback_query": query})

    async def links(self) -> None:
        """Share their own contact, as a first-time user does."""
        response = await self.shares_contact()
        assert response.status == 200

    # --- what the bot sent this person --------------------------------------------

    def texts(self) -> list[str]:
        return self.bot.api.texts(self.chat_id)

    def last_text(self) -> str:
        return str(self.bot.api.last(self.chat_id).params["text"])

    def buttons(self, call: Call | None = None) -> dict[str, str]:
        """Label -> callback data of the inline keyboard under `call` (default: the last)."""
        call = call or self.bot.api.last(self.chat_id)
        markup = call.params.get("reply_markup") or {}
        return {
            button["text"]: button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
        }


@dataclass
class Bot:
    """The app under test, reached over HTTP the way Telegram reaches it."""

    client: Any
    api: FakeTelegramAPI
    app: Any
    _people: itertools.count[int] = field(default_factory=lambda: itertools.count(10_001))

    async def deliver(self, update: dict[str, Any], *, secret: str | None = SECRET) -> Any:
        if update.get("update_id") is None:
            update["update_id"] = next(_update_ids)
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post(PATH, json=update, headers=headers)

    def user(
        self,
        phone: str,
        first_name: str = "Ann",
        last_name: str | None = "Lee",
        *,
        language_code: str | None = None,
    ) -> TelegramUser:
        return TelegramUser(
            self, next(self._people), phone, first_name, last_name, language_code=language_code
        )

    @property
    def channel(self) -> Any:
        return self.app[CHANNEL]


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI()
    async with fake.running():
        yield fake


@pytest.fixture
async def bot(aiohttp_client: Any, database_url: str, telegram_api: FakeTelegramAPI) -> Bot:
    app = create_app(telegram_settings(database_url, telegram_api.url))
    client = await aiohttp_client(app)
    return Bot(client, telegram_api, app)


async def make_provider(
    phone: str = PROVIDER_PHONE, name: str = "Serene Spa", code: str | None = "SPA", **extra: Any
) -> ServiceAccount:
    return await ServiceAccount.create(phone=phone, name=name, code=code, **extra)


async def outbox_for(phone: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(recipient=phone).order_by("id")


async def enqueue(phone: str, text: str, key: str) -> None:
    await OutboxMessage.create(
        channel=Channel.TELEGRAM.value,
        recipient=phone,
        text=text,
        next_attempt_at=utcnow(),
        idempotency_key=key,
    )
