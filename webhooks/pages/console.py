"""The provider console (/console): sign in by a code sent to the phone (or the admin
token), today's line, and its buttons.

Every button runs the provider's own text command through bot.provider.respond, the
code the SMS NEXT, DONE, ... run, so the console can never act differently from a
text, and shows that command's reply. Every POST checks the same-origin rule first,
then the session; with JavaScript off each form posts and is sent back (303).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

import aiohttp_jinja2
from aiohttp import web

from bot import engine, provider
from bot.inbound import Inbound
from core.errors import InvalidTransition, NotFound
from core.models import Appointment, Channel, ServiceAccount
from core.rules import console_access as access_rules
from core.rules.commands import parse
from core.rules.days import today_in, utcnow
from core.rules.phones import InvalidPhone
from core.rules.typed_phones import typed_phone
from core.rules.vocabulary import Role
from core.services import console_access, service_accounts, status_changes
from core.settings import Settings
from webhooks.pages.board import BOARD_SESSION_CHECK
from webhooks.pages.console_line import line_view
from webhooks.pages.events import HEARTBEAT, HEARTBEAT_SECONDS, open_stream
from webhooks.pages.origin import require_same_origin
from webhooks.pages.render import page, problem
from webhooks.state import LINE_HUB, OUTBOX_WAKEUP, SETTINGS

SESSION_COOKIE = "console_session"
# The last button's result, shown once after the 303 (a cookie, so no text of ours
# can be put on the page by a link).
SAID_COOKIE = "console_said"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_FIELD = 200

# Buttons that are one provider command, as the text it would send.
_COMMANDS = {
    "next": "NEXT",
    "done": "DONE",
    "noshow": "NOSHOW",
    "undo": "UNDO",
    "close": "CLOSE",
    "open": "OPEN",
}


def _settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


def _region(settings: Settings) -> str:
    return settings.default_phone_region


def _phone_or_none(typed: str, region: str) -> str | None:
    try:
        return typed_phone(typed, region=region)
    except InvalidPhone:
        return None


async def _signed_in(request: web.Request) -> ServiceAccount | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return await console_access.session_account(token=token, now=utcnow())


def _set_session(response: web.StreamResponse, settings: Settings, token: str) -> None:
    secure = bool(settings.public_base_url and settings.public_base_url.startswith("https:"))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(access_rules.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        secure=secure,
        samesite="Lax",
    )


def _see_other(location: str) -> web.Response:
    """303 to `location`: the browser GETs it, so a reload repeats no button."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _back(day: date | None, said: str | None = None) -> web.Response:
    location = "/console" + (f"?day={day.isoformat()}" if day else "")
    redirect = _see_other(location)
    if said:
        redirect.set_cookie(
            SAID_COOKIE, quote(said), max_age=60, path="/console", httponly=True, samesite="Lax"
        )
    return redirect


def _day(request: web.Request, account: ServiceAccount, raw: str | None) -> date:
    if not raw:
        return today_in(account.timezone, now=utcnow())
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(request, "That is not a day", "Pick a day as YYYY-MM-DD.") from None


class _Refused(Exception):
    """Bad input found in a helper: answered with its error page (a 4xx, never a 500)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _bad(request: web.Request, title: str, detail: str, status: int = 400) -> _Refused:
    return _Refused(problem(request, status, title, detail))


def _refusals(handler: Handler) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response
        except web.HTTPForbidden as refused:
            # The same-origin rule's refusal, as a page a person can read.
            return problem(request, 403, "Refused", refused.reason)

    return answer


def _signin(
    request: web.Request, *, step: str, phone: str = "", said: str = "", status: int = 200
) -> web.Response:
    return page(
        request, "console_signin.html", {"step": step, "phone": phone, "said": said}, status=status
    )


async def show(request: web.Request) -> web.Response:
    account = await _signed_in(request)
    if account is None:
        return _signin(request, step="phone")
    day = _day(request, account, request.query.get("day"))
    view = await line_view(account=account, day=day, now=utcnow())
    said = unquote(request.cookies.get(SAID_COOKIE, ""))[:500]
    response = page(
        request,
        "console.html",
        {
            "account": account,
            "view": view,
            "said": said,
            "today": today_in(account.timezone, now=utcnow()),
        },
    )
    if said:
        response.del_cookie(SAID_COOKIE, path="/console")
    return response


async def send_code(request: web.Request) -> web.Response:
    require_same_origin(request, _settings(request))
    form = await request.post()
    typed = _field(form, "phone")
    phone = _phone_or_none(typed, _region(_settings(request)))
    if phone is None:
        return _signin(
            request, step="phone", said="That is not a phone number we can read.", status=400
        )
    with request.app[OUTBOX_WAKEUP].after_writes():
        outcome = await console_access.request_code(phone=phone, now=utcnow())
    if outcome is console_access.CodeRequest.TOO_MANY:
        return _signin(
            request,
            step="phone",
            status=429,
            said="Too many codes for this phone. Try again in an hour.",
        )
    return _signin(
        request,
        step="code",
        phone=phone,
        said="If this phone may sign in, a code is on its way to it.",
    )


async def check_code(request: web.Request) -> web.Response:
    require_same_origin(request, _settings(request))
    form = await request.post()
    phone = _phone_or_none(_field(form, "phone"), _region(_settings(request)))
    code = access_rules.clean_code(_field(form, "code"))
    if phone is None:
        return _signin(request, step="phone", said="Start again with your phone.", status=400)
    if code is None:
        return _signin(
            request, step="code", phone=phone, status=400, said="The code is the 6 digits we sent."
        )
    checked = await console_access.check_code(phone=phone, code=code, now=utcnow())
    if checked.outcome is console_access.CodeCheck.WRONG:
        return _signin(
            request, step="code", phone=phone, status=400, said="That code is not right. Try again."
        )
    if checked.account is None:
        return _signin(
            request,
            step="phone",
            status=400,
            said="That code has expired or was tried too often. Ask for a new one.",
        )
    return await _open(request, checked.account)


async def _open(request: web.Request, account: ServiceAccount) -> web.Response:
    token = await console_access.open_session(account_id=account.id, now=utcnow())
    response = _see_other("/console")
    _set_session(response, _settings(request), token)
    return response


async def admin_sign_in(request: web.Request) -> web.Response:
    settings = _settings(request)
    require_same_origin(request, settings)
    form = await request.post()
    expected = settings.admin_api_token.get_secret_value() if settings.admin_api_token else None
    phone = _phone_or_none(_field(form, "phone"), _region(settings))
    token = form.get("token", "")
    ok = console_access.admin_token_matches(
        given=token if isinstance(token, str) else "", expected=expected
    )
    account = await console_access.account_for_phone(phone=phone) if ok and phone else None
    if account is None:
        return _signin(
            request,
            step="phone",
            status=403,
            said="The admin token or the provider's phone is not right.",
        )
    return await _open(request, account)


async def sign_out(request: web.Request) -> web.Response:
    require_same_origin(request, _settings(request))
    token = request.cookies.get(SESSION_COOKIE, "")
    everywhere = request.path.endswith("/everywhere")
    account = await console_access.session_account(token=token, now=utcnow())
    if everywhere and account is not None:
        await console_access.end_all_sessions(account_id=account.id, now=utcnow())
    elif token:
        await console_access.end_session(token=token, now=utcnow())
    response = _see_other("/console")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def act(request: web.Request) -> web.Response:
    require_same_origin(request, _settings(request))
    account = await _signed_in(request)
    if account is None:
        return problem(request, 401, "Not signed in", "Sign in to the console first.")
    form = await request.post()
    action = _field(form, "action")
    day = _day(request, account, _field(form, "day") or None)
    with request.app[OUTBOX_WAKEUP].after_writes():
        said = await _run(request, account, action, form, day)
    request.app[LINE_HUB].changed(account.id, day)
    today = today_in(account.timezone, now=utcnow())
    if day != today:
        request.app[LINE_HUB].changed(account.id, today)
    return _back(day if day != today else None, said)


async def _run(
    request: web.Request, account: ServiceAccount, action: str, form: Any, day: date
) -> str:
    text: str
    if action in _COMMANDS:
        text = _COMMANDS[action]
        if action in {"done", "noshow"} and (which := _field(form, "appointment_id")):
            if not which.isdecimal():
                raise _bad(request, "No such person", "Pick a person in the line.")
            text = f"{text} #{which}"
    elif action == "delay":
        minutes = _field(form, "minutes")
        if not minutes.isdecimal():
            raise _bad(request, "Minutes, please", "Delay takes a number of minutes (0 clears it).")
        text = f"DELAY {int(minutes)}"
    elif action == "add":
        phone = _phone_or_none(_field(form, "phone"), service_accounts.region_of(account))
        if phone is None:
            raise _bad(request, "Not a phone number", "Type the walk-in's phone number.")
        # The name as a text's words: cleaned as the engine cleans any text.
        # To the day shown, named first so that no word of the name is read as a day.
        text = f"ADD {phone} {day.isoformat()} {engine.read(_field(form, 'name')).text}"
    elif action == "remove":
        return await _remove(request, account, _field(form, "appointment_id"))
    else:
        raise _bad(request, "Unknown button", "That button does not exist.")
    message = Inbound(
        channel=Channel.CONSOLE,
        phone=account.phone,
        text=text,
        default_provider_phone=None,
        now=utcnow(),
    )
    return await provider.respond(message, account, parse(text, role=Role.PROVIDER))


async def _remove(request: web.Request, account: ServiceAccount, which: str) -> str:
    """Remove: the provider cancels a spot as a correction, so no penalty is recorded."""
    if not which.isdecimal():
        raise _bad(request, "No such person", "Pick a person in the line.")
    appointment = await Appointment.get_or_none(
        id=int(which), service_account_id=account.id
    ).select_related("user")
    if appointment is None:
        raise _bad(request, "No such person", "That person is not in your line.", 404)
    try:
        await status_changes.cancel(appointment_id=appointment.id, now=utcnow(), penalised=False)
    except (InvalidTransition, NotFound):
        return "That person is no longer in the line."
    return f"Removed {appointment.user.name} from the line."


async def events(request: web.Request) -> web.StreamResponse:
    """The line as server-sent events: now, then after every change; a heartbeat
    comment every 15 s keeps proxies from closing it."""
    account = await _signed_in(request)
    if account is None:
        return problem(request, 401, "Not signed in", "Sign in to the console first.")
    day = _day(request, account, request.query.get("day"))
    hub = request.app[LINE_HUB]
    response = await open_stream(request)

    async def render() -> str:
        view = await line_view(account=account, day=day, now=utcnow())
        return aiohttp_jinja2.render_string("console_line.html", request, {"view": view})

    with contextlib.suppress(ConnectionResetError):
        async with hub.watch(account.id, day) as watch:
            changed = True
            while True:
                if changed:
                    # One read for every console of this line woken together.
                    html = await hub.shared(("console", account.id, day), render)
                    data = "".join(f"data: {line}\n" for line in html.splitlines())
                    await response.write(f"event: line\n{data}\n".encode())
                elif await _signed_in(request) is None:
                    # Signed out (here or everywhere) or expired: checked once per
                    # heartbeat, not per change, so a busy line costs no extra reads.
                    break
                else:
                    await response.write(HEARTBEAT)
                changed = await watch.wait(HEARTBEAT_SECONDS)
                if hub.closing:
                    break  # the app is shutting down (LineHub.shut woke every watcher)
    return response


async def _board_session(request: web.Request, account: ServiceAccount) -> bool:
    """Whether the request carries a console session of `account`: a private board
    opens for its provider's staff (webhooks.pages.board)."""
    signed_in = await _signed_in(request)
    return signed_in is not None and signed_in.id == account.id


def setup(app: web.Application) -> None:
    app[BOARD_SESSION_CHECK] = _board_session
    app.router.add_get("/console", _refusals(show))
    app.router.add_post("/console/code", _refusals(send_code))
    app.router.add_post("/console/verify", _refusals(check_code))
    app.router.add_post("/console/admin", _refusals(admin_sign_in))
    app.router.add_post("/console/sign-out", _refusals(sign_out))
    app.router.add_post("/console/sign-out/everywhere", _refusals(sign_out))
    app.router.add_post("/console/do", _refusals(act))
    app.router.add_get("/console/events", _refusals(events))
