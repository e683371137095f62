"""The customer's status page, /s/<token>: their place in one line, live.

The token is the key (core.services.status_links): a wrong token, or one whose day is
over, shows nothing of anyone. The page is one cheap read, the same standing STATUS
texts; its buttons call the services the texts LATE, LEAVE and HERE call. Every form
is a plain POST answered with a 303 back to the page, so all of it works without
JavaScript; webhooks/static/status.js only keeps the page current over
/s/<token>/events (server-sent events).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot import replies
from core.errors import InvalidTransition, NotFound
from core.services import arrivals, lateness, status_changes
from core.services.status_links import Ended, State, Visit
from webhooks.live import LineHub
from webhooks.pages.events import HEARTBEAT, HEARTBEAT_SECONDS, open_stream
from webhooks.pages.origin import require_same_origin
from webhooks.pages.render import draw, html, page, problem
from webhooks.state import LINE_HUB, OUTBOX_WAKEUP, SETTINGS, STATUS_VIEWS
from webhooks.status_views import StatusViews

_HEADLINES = {
    State.WAITING: "You're in line",
    State.CALLED: "It's your turn",
    State.DONE: "All done, thank you",
    State.LEFT: "You left the line",
    State.NO_SHOW: "Marked as a no-show",
}
# What a form did, shown once above the state after its redirect (?said=...).
_SAID = {
    "late": "Thanks: we told them you're running late.",
    "here": "Thanks: we told them you're coming.",
    "left": "You have left the line.",
}


def view(visit: Visit) -> dict[str, Any]:
    """What the page shows of `visit`: the template's context and the events' JSON."""
    spot = visit.spot
    state = visit.state
    return {
        "state": state.value,
        "headline": _HEADLINES[state],
        # The whole name: a page has room (a text clips it to fit a segment).
        "place": visit.place_name,
        "day": replies.day_label(visit.day, today=visit.today),
        "position": spot.position if spot else None,
        "ahead": spot.ahead if spot else None,
        "wait": replies.wait_phrase(spot.wait_minutes, spot.wait_range) if spot else None,
        "confirmed": visit.confirmed,
        "can_late": state in (State.WAITING, State.CALLED),
        "can_leave": state in (State.WAITING, State.CALLED),
        "can_here": state is State.CALLED and not visit.confirmed,
    }


async def _visit(request: web.Request, *, fresh: bool = False) -> Visit | web.Response:
    """The visit the URL's token names, or the page that says there is none: from the
    process's StatusViews, read anew when `fresh` (a form acts on it)."""
    views = request.app[STATUS_VIEWS]
    token = request.match_info["token"]
    found = await (views.fresh(token) if fresh else views.visit(token))
    if isinstance(found, Ended):
        return problem(
            request, 404, "This visit has ended", "This link was for a day that is over."
        )
    if found is None:
        return problem(
            request, 404, "Link not found", "This link is not valid. Text STATUS for a new one."
        )
    return found


async def show(request: web.Request) -> web.Response:
    views = request.app[STATUS_VIEWS]
    found = await _visit(request)
    if isinstance(found, web.Response):
        return found
    token = request.match_info["token"]
    said = _SAID.get(request.query.get("said", ""))
    if said is None:
        kept = views.drawn(token, found)
        if kept is not None:
            return html(kept)
    text = draw(request, "status.html", {**view(found), "token": token, "said": said})
    if said is None:
        views.keep_drawn(token, found, text)
    return html(text)


async def confirm_leave(request: web.Request) -> web.Response:
    """The confirmation step of "Leave the line" (a page of its own: works without JS)."""
    found = await _visit(request)
    if isinstance(found, web.Response):
        return found
    if not view(found)["can_leave"]:
        raise web.HTTPSeeOther(f"/s/{request.match_info['token']}")
    context = {"token": request.match_info["token"], "place": found.place_name}
    return page(request, "status_leave.html", context)


Act = Callable[[Visit], Awaitable[None]]


def _acting(said: str, act: Act) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A POST handler: same-origin check first, then `act(visit)` (a core service
    call), then a 303 back to the page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        require_same_origin(request, request.app[SETTINGS])
        found = await _visit(request, fresh=True)
        if isinstance(found, web.Response):
            return found
        try:
            with request.app[OUTBOX_WAKEUP].after_writes():
                await act(found)
        except (InvalidTransition, NotFound):
            return problem(
                request,
                409,
                "Not possible now",
                "Your visit has moved on; the page shows it as it is.",
            )
        # The line's watchers are told once this request ends (lines_changed_middleware).
        raise web.HTTPSeeOther(f"/s/{request.match_info['token']}?said={said}")

    return handler


async def _late(visit: Visit) -> None:
    # As the text LATE does: a called customer's grace period is extended; a waiting
    # one's spot moves back if someone behind can be served first.
    if visit.state is State.CALLED:
        await lateness.late_when_called(appointment_id=visit.appointment_id)
    else:
        await lateness.late(appointment_id=visit.appointment_id, minutes=None)


async def _here(visit: Visit) -> None:
    await arrivals.confirm(appointment_id=visit.appointment_id)


async def _leave(visit: Visit) -> None:
    await status_changes.cancel(appointment_id=visit.appointment_id)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the page's state at once, again whenever the line changes
    (within the hub's poll, or at once after a change here), a heartbeat when idle."""
    views = request.app[STATUS_VIEWS]
    found = await _visit(request)
    if isinstance(found, web.Response):
        return found
    hub: LineHub = request.app[LINE_HUB]
    response = await open_stream(request)
    sent: dict[str, Any] | None = None
    try:
        async with hub.watch(found.account_id, found.day) as watch:
            current: Visit | Ended | None = found
            while True:
                if not isinstance(current, Visit):
                    await response.write(b"event: ended\ndata: {}\n\n")
                    break
                shown = view(current)
                if shown != sent:
                    await response.write(f"data: {json.dumps(shown)}\n\n".encode())
                    sent = shown
                if await watch.wait(HEARTBEAT_SECONDS):
                    if hub.closing:
                        break
                    current = await _after_change(views, found)
                else:
                    await response.write(HEARTBEAT)
    except (ConnectionResetError, ConnectionError):
        # The page went away: nothing to tell.
        pass
    return response


async def _after_change(views: StatusViews, visit: Visit) -> Visit | Ended | None:
    """The visit once its line changed, from the line's one snapshot in this process,
    read once for every page of it (a NEXT read once for a thousand pages)."""
    snapshot = await views.snapshot(visit.account_id, visit.day)
    if snapshot is None:
        return None
    return snapshot.visit(visit.appointment_id)


def setup(app: web.Application) -> None:
    app.router.add_get("/s/{token}", show)
    app.router.add_get("/s/{token}/events", events)
    app.router.add_get("/s/{token}/leave", confirm_leave)
    app.router.add_post("/s/{token}/leave", _acting("left", _leave))
    app.router.add_post("/s/{token}/late", _acting("late", _late))
    app.router.add_post("/s/{token}/here", _acting("here", _here))
