"""A fake Telegram Bot API: a real aiohttp server on loopback.

PTB's `Bot` is pointed at it with `base_url`, so the real PTB request path runs (httpx,
form encoding, error mapping). It records every call and can answer 429 (flood control)
and 403 (blocked by the user) on demand. Updates for long polling are queued with
`push_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "waitlist_test_bot"
TOKEN = f"{BOT_ID}:AAfake-token_for-tests"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None

    @property
    def result_id(self) -> int:
        """The message_id Telegram gave the message this call sent."""
        return int(self.result["message_id"])


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None


@dataclass
class FakeTelegramAPI:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    _faults: list[_Fault] = field(default_factory=list)
    _blocked: set[int] = field(default_factory=set)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _new_call: asyncio.Event = field(default_factory=asyncio.Event)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    url: str = ""

    # --- test controls -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 3,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next call of `method` (to `chat_id`, if given) with an error, once."""
        text = description or (
            f"Too Many Requests: retry after {retry_after}" if status == 429 else "Error"
        )
        self._faults.append(_Fault(method, status, text, retry_after, chat_id))

    def block(self, chat_id: int) -> None:
        """The user of `chat_id` blocked the bot: every send to it answers 403."""
        self._blocked.add(chat_id)

    def push_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._new_update.set()

    async def wait_until(self, condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
        """Wait until `condition()` holds after some call (a bound on a hang, not a timing test)."""
        async with asyncio.timeout(seconds):
            while not condition():
                self._new_call.clear()
                await self._new_call.wait()

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        return [
            call
            for call in self.calls_of("sendMessage")
            if chat_id is None or call.params["chat_id"] == chat_id
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [call.params["text"] for call in self.sent(chat_id)]

    def last(self, chat_id: int) -> Call:
        sent = self.sent(chat_id)
        assert sent, f"nothing was sent to chat {chat_id}"
        return sent[-1]

    # --- the server ----------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            # PTB sends non-string values JSON-encoded (numbers, markup); strings as they are.
            text = str(value)
            try:
                params[key] = json.loads(text)
            except ValueError:
                params[key] = text
            if key == "text":
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params)
        self.calls.append(call)
        chat_id = params.get("chat_id")
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                self._faults.remove(fault)
                return _error(fault.status, fault.description, retry_after=fault.retry_after)
        if chat_id in self._blocked and method.startswith(("send", "edit")):
            return _error(403, "Forbidden: bot was blocked by the user")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        call.result = await handler(params)
        self._new_call.set()
        return web.json_response({"ok": True, "result": call.result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Waitlist",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": 1_700_000_000,
            "chat": {"id": params["chat_id"], "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Waitlist"},
            "text": params.get("text", ""),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(params)

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._message(params)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._message(params)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        # Confirmed updates are forgotten, as Telegram does.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), float(params.get("timeout") or 0))
        return list(self._updates)

    # --- lifecycle -----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeTelegramAPI]:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            # Release long polls still waiting so the runner can close promptly.
            self._new_update.set()
            await runner.cleanup()


def _error(status: int, description: str, *, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
