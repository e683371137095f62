"""The lobby board, /board/<code> (issue 15): "Now serving", the next few waiting, and
the wait for someone joining now, live over server-sent events (/board/<code>/events).

Public unless the provider sets `board_public: false`; then it opens with the board key
(`?key=`, rotated by POST /service-accounts/{phone}/board-key) or with a console
session, which the console registers as BOARD_SESSION_CHECK.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import segno
from aiohttp import web

from bot.replies import wait_phrase
from core.models import ServiceAccount
from core.rules import boards as board_rules
from core.rules.days import today_in, utcnow
from core.services import boards
from webhooks.pages.events import HEARTBEAT, HEARTBEAT_SECONDS, open_stream
from webhooks.pages.render import page, problem
from webhooks.state import LINE_HUB, SETTINGS

log = logging.getLogger(__name__)

# What a reconnecting EventSource waits before it tries again, in milliseconds.
RETRY_MS = 2000

SessionCheck = Callable[[web.Request, ServiceAccount], Awaitable[bool]]
# The console's hook: whether this request carries a console session of the provider
# (helper-console's sessions register their check here; without one, only the key
# opens a private board).
BOARD_SESSION_CHECK: web.AppKey[SessionCheck] = web.AppKey("board_session_check")


@dataclass(frozen=True, slots=True)
class Opened:
    account: ServiceAccount
    key: str | None


async def _open(request: web.Request) -> Opened | web.Response:
    """The provider whose board this is, if the request may see it; else the page
    that says why not (404 for an unknown code, 403 for a private board)."""
    account = await boards.account_for_code(request.match_info["code"])
    if account is None:
        return problem(request, 404, "No such board", "There is no board at this address.")
    key = request.query.get("key")
    if account.board_public:
        return Opened(account, None)
    if key is not None and board_rules.key_matches(key, account.board_key_hash):
        return Opened(account, key)
    check = request.app.get(BOARD_SESSION_CHECK)
    if check is not None and await check(request, account):
        return Opened(account, None)
    reason = (
        "This board's key is not valid (it may have been replaced)."
        if key is not None
        else "This board is private: open it from the console or with its key."
    )
    return problem(request, 403, "Private board", reason)


def _day(account: ServiceAccount) -> date:
    return today_in(account.timezone, now=utcnow())


async def _state(request: web.Request, account_id: int, day: date) -> dict[str, Any] | None:
    """The board's state as the page and its stream show it. One read for every board
    of the line in this process: callers at the same time share the one in flight, and
    a change committed during it wakes the watchers again at the hub's next poll."""

    async def load() -> dict[str, Any] | None:
        board = await boards.read(account_id=account_id, day=day, now=utcnow())
        if board is None:
            return None
        spot = board.join_now
        return {
            "name": board.name,
            "serving": list(board.serving),
            "waiting": list(board.waiting),
            "waiting_count": board.waiting_count,
            "more": max(board.waiting_count - len(board.waiting), 0),
            "wait": wait_phrase(spot.wait_minutes, spot.wait_range),
        }

    state: dict[str, Any] | None = await request.app[LINE_HUB].shared(
        ("board", account_id, day), load
    )
    return state


def _footer(account: ServiceAccount, request: web.Request) -> dict[str, str] | None:
    """ "Text JOIN <code> to <number>" with its QR code, when customers text a number."""
    number = request.app[SETTINGS].twilio_from_number
    if not number or not account.code:
        return None
    link = board_rules.join_link(code=account.code, number=number)
    # segno escapes nothing it is not given: the link is built from a stored code
    # (letters and digits) and a configured number, and autoescape covers the text.
    svg = segno.make(link, error="m").svg_inline(
        scale=1, omitsize=True, dark="#000", light="#fff", svgclass="segno qr", title=link
    )
    return {
        "text": board_rules.join_text(code=account.code, number=number),
        "link": link,
        "svg": svg,
    }


async def board_page(request: web.Request) -> web.Response:
    opened = await _open(request)
    if isinstance(opened, web.Response):
        return opened
    account = opened.account
    state = await _state(request, account.id, _day(account))
    if state is None:
        return problem(request, 404, "No such board", "There is no board at this address.")
    events = f"/board/{account.code}/events"
    if opened.key is not None:
        events += f"?key={opened.key}"
    return page(
        request,
        "board.html",
        {
            "state": state,
            "events": events,
            "footer": _footer(account, request),
        },
    )


async def board_events(request: web.Request) -> web.StreamResponse:
    """The board's state at once, then again after each change to the line, with a
    heartbeat comment every HEARTBEAT_SECONDS; the stream ends when the provider's day
    turns (the browser reconnects to the new day's line)."""
    opened = await _open(request)
    if isinstance(opened, web.Response):
        return opened
    account_id, day = opened.account.id, _day(opened.account)
    timezone = opened.account.timezone
    response = await open_stream(request)
    try:
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        async with request.app[LINE_HUB].watch(account_id, day) as watch:
            sent: dict[str, Any] | None = None
            changed = True
            while True:
                if changed:
                    state = await _state(request, account_id, day)
                    if state is None:
                        break
                    if state != sent:
                        await response.write(
                            b"event: board\ndata: " + orjson.dumps(state) + b"\n\n"
                        )
                        sent = state
                else:
                    await response.write(HEARTBEAT)
                if today_in(timezone, now=utcnow()) != day:
                    break
                changed = await watch.wait(HEARTBEAT_SECONDS)
                if request.app[LINE_HUB].closing:
                    break  # the app is shutting down (LineHub.shut woke every watcher)
    except ConnectionResetError:
        pass  # The board went away; nothing to tell.
    return response


def setup(app: web.Application) -> None:
    """Register this screen's routes."""
    app.router.add_get("/board/{code}", board_page)
    app.router.add_get("/board/{code}/events", board_events)
