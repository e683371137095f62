"""What the screens refuse, seen from a real browser (Playwright driving Debian's
chromium): names written as scripts stay text on the status page and the console, live
updates included; a link shows its own visit and nothing once its day is over; a form
posted from another origin changes nothing; the sign-in code's tries and its hourly
limit hold at the form a person uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from core.models import Appointment, ConsoleSession, Status, StatusLink
from core.rules import console_access as access_rules
from core.rules.days import today_in, utcnow
from core.services import booking, service_accounts, users
from tests.console_support import last_code_to
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    one_reply,
    twilio_api_fixture,
)
from tests.test_console_browser import live_fixture, signed_in_page  # noqa: F401 (fixtures)
from tests.test_status_page import joined, linked_sms_fixture  # noqa: F401 (fixtures)
from webhooks.state import INBOX

SCRIPT = "<script>alert(1)</script>"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


def _dialogs(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("dialog", lambda dialog: seen.append(dialog.message))
    return seen


async def test_a_place_and_a_customer_named_as_a_script_stay_text_on_the_status_page(
    linked_sms, browser
):
    from playwright.async_api import expect

    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name=SCRIPT, code="SPA")
    token = await joined(linked_sms, ANN, SCRIPT)
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    dialogs = _dialogs(page)
    await page.goto(str(linked_sms.client.make_url(f"/s/{token}")))
    await expect(page.locator("#headline")).to_have_text("You're in line")
    assert SCRIPT in await page.locator("body").inner_text()

    # The live update draws the state again: still text.
    await one_reply(linked_sms, PROVIDER_PHONE, "next")
    await expect(page.locator("#headline")).to_have_text("It's your turn", timeout=2000)

    assert SCRIPT in await page.locator("body").inner_text()
    assert dialogs == []
    await context.close()


async def test_a_customer_named_as_a_script_stays_text_on_the_console_live_too(
    live: Sms, browser
):
    from playwright.async_api import expect

    account = await service_accounts.get_service_account(phone=PROVIDER_PHONE)
    await users.register(phone="+14155550177", name=SCRIPT)
    page = await signed_in_page(browser, live, PROVIDER_PHONE)
    dialogs = _dialogs(page)
    await page.reload()
    # Joining while the console is open: the row arrives by the live stream.
    await booking.add_to_line(
        user_phone="+14155550177", account=account, day=today_in(account.timezone, now=utcnow())
    )

    row = page.locator("tr", has_text=SCRIPT)
    await expect(row).to_be_visible(timeout=5000)
    assert dialogs == []
    await page.context.close()


async def test_a_link_shows_its_own_visit_only_and_nothing_once_its_day_is_over(
    linked_sms, browser
):
    from playwright.async_api import expect

    await service_accounts.create_service_account(phone=PROVIDER_PHONE, name="Zen Spa", code="SPA")
    ann = await joined(linked_sms, ANN, "Ann Bell")
    bob = await joined(linked_sms, BOB, "Bob Carter")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()

    await page.goto(str(linked_sms.client.make_url(f"/s/{bob}")))
    await expect(page.locator("#position")).to_have_text("2")
    text = await page.locator("body").inner_text()
    for other in ("Ann", "Bell", "Bob", "Carter", ANN[-4:], BOB[-4:]):
        assert other not in text

    await linked_sms.client.app[INBOX].replies.write()
    ann_link = await StatusLink.get(appointment__user__phone=ANN)
    ann_link.day = ann_link.day - timedelta(days=2)
    await ann_link.save()
    answer = await page.goto(str(linked_sms.client.make_url(f"/s/{ann}")))
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading")).to_have_text("This visit has ended")
    text = await page.locator("body").inner_text()
    assert "Zen Spa" not in text
    assert "Ann" not in text
    await context.close()


@pytest.fixture
async def elsewhere() -> AsyncIterator[Any]:
    """Another origin on loopback (another port): it serves whatever page a test gives it."""
    pages: dict[str, str] = {}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=pages[request.match_info["name"]], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    class Elsewhere:
        def page(self, name: str, html: str) -> str:
            pages[name] = html
            return f"http://127.0.0.1:{port}/{name}"

    try:
        yield Elsewhere()
    finally:
        await runner.cleanup()


def _posting_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    return (
        f'<form method="post" action="{action}">{inputs}</form>'
        "<script>document.forms[0].submit()</script>"
    )


async def test_a_form_posted_from_another_origin_is_refused_and_changes_nothing(
    live: Sms, browser, elsewhere
):
    page = await signed_in_page(browser, live, PROVIDER_PHONE)
    console_url = str(live.client.make_url("/console/do"))
    # The console's own form fields, posted by a page of another origin with the
    # session cookie the browser holds for this site.
    fields = {"action": "next"}
    csrf = page.locator("input[name=csrf]").first
    if await csrf.count():
        fields["csrf"] = await csrf.get_attribute("value") or ""

    async with page.expect_response(console_url) as answered:
        await page.goto(elsewhere.page("attack", _posting_form(console_url, fields)))
    response = await answered.value

    assert response.status == 403
    assert await Appointment.filter(called_at__isnull=False).count() == 0
    assert await Appointment.filter(status=Status.ACTIVE).count() == 2
    await page.context.close()


async def test_the_sign_in_form_spends_a_code_after_five_wrong_tries_and_limits_codes(
    live: Sms, browser
):
    from playwright.async_api import expect

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(str(live.client.make_url("/console")))
    await page.get_by_label("Phone").fill(PROVIDER_PHONE)
    await page.get_by_role("button", name="Send me a code").click()
    code = await last_code_to(live, PROVIDER_PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(access_rules.MAX_TRIES - 1):
        await page.get_by_label("Code").fill(wrong)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.locator("body")).to_contain_text("not right")
    await page.get_by_label("Code").fill(wrong)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("body")).to_contain_text("new one")
    # The page now asks for the phone again; the spent code, posted as its form would
    # post it, opens nothing.
    status = await page.evaluate(
        """async ([phone, code]) => (await fetch("/console/verify",
            {method: "POST", body: new URLSearchParams({phone, code})})).status""",
        [PROVIDER_PHONE, code],
    )
    assert status == 400
    assert await ConsoleSession.all().count() == 0

    # Four more codes make five this hour; the sixth form is refused, provider or not.
    for _ in range(access_rules.CODES_PER_WINDOW - 1):
        await page.goto(str(live.client.make_url("/console")))
        await page.get_by_label("Phone").fill(PROVIDER_PHONE)
        await page.get_by_role("button", name="Send me a code").click()
        await expect(page.get_by_label("Code")).to_be_visible()
    await page.goto(str(live.client.make_url("/console")))
    await page.get_by_label("Phone").fill(PROVIDER_PHONE)
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page.locator("body")).to_contain_text("Too many codes")
    await context.close()
