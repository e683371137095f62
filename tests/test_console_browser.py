"""The console in a real browser (Playwright driving Debian's chromium): a provider signs
in with the code the fake Twilio captured, clicks Next and Done, and a second console
(another browser context) sees each change without a reload; and the console works
with JavaScript off.

The browser is the shared one (tests/browser.py): Debian's chromium, a failure in CI
when it is missing.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from core.rules.days import today_in, utcnow
from core.services import booking, service_accounts, users
from tests.console_support import last_code_to
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    BOB,
    PROVIDER_PHONE,
    Sms,
    sms_settings,
    start_sms,
    twilio_api_fixture,
)

DESK = "+14155550160"


@pytest.fixture(name="live")
async def live_fixture(aiohttp_client: Any, database_url: str, twilio_api: Any) -> Sms:
    # Plain http on loopback: a Secure cookie would not be kept by the browser.
    settings = sms_settings(database_url, twilio_api.url, public_base_url="http://127.0.0.1")
    sms = await start_sms(aiohttp_client, settings, twilio_api, engine=None)
    account = await service_accounts.create_service_account(
        phone=PROVIDER_PHONE, name="Zen Spa", staff_phones=[DESK]
    )
    today = today_in(account.timezone, now=utcnow())
    for phone, name in ((ANN, "Ann Bell"), (BOB, "Bob Carter")):
        await users.register(phone=phone, name=name)
        await booking.add_to_line(user_phone=phone, account=account, day=today)
    return sms


async def signed_in_page(browser: Any, live: Sms, phone: str, *, javascript: bool = True) -> Any:
    context = await browser.new_context(java_script_enabled=javascript)
    page = await context.new_page()
    await page.goto(str(live.client.make_url("/console")))
    await page.get_by_label("Phone").fill(phone)
    await page.get_by_role("button", name="Send me a code").click()
    await page.get_by_label("Code").fill(await last_code_to(live, phone))
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.get_by_role("heading", name="Zen Spa").wait_for()
    return page


async def _screenshot(page: Any) -> None:
    """With WAITLIST_SCREENSHOTS set to a folder, the console as the README shows it."""
    folder = os.environ.get("WAITLIST_SCREENSHOTS")
    if folder:
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.screenshot(path=os.path.join(folder, "console.png"), full_page=True)


def _top(page: Any, label: str) -> Any:
    """The button above the table (the rows have their own Done and No-show)."""
    return page.locator("div.buttons").get_by_role("button", name=label, exact=True)


async def test_next_and_done_clicked_on_one_console_show_on_another_without_a_reload(browser, live):
    from playwright.async_api import expect

    provider = await signed_in_page(browser, live, PROVIDER_PHONE)
    desk = await signed_in_page(browser, live, DESK)
    await desk.locator("#line[data-live='1']").wait_for(state="attached")
    await desk.evaluate("window.notReloaded = true")

    await _top(provider, "Next").click()
    await expect(provider.locator("#said")).to_contain_text("Called Ann")
    serving = desk.locator("#line table.line").first
    await expect(serving).to_contain_text("Ann Bell", timeout=5000)
    await _screenshot(provider)

    await _top(provider, "Done").click()
    await expect(provider.locator("#said")).to_contain_text("Done: Ann")
    await expect(desk.locator("#line")).to_contain_text("Nobody is being served", timeout=5000)
    assert await desk.evaluate("window.notReloaded") is True


async def test_the_console_works_with_javascript_off(browser, live):
    from playwright.async_api import expect

    page = await signed_in_page(browser, live, PROVIDER_PHONE, javascript=False)
    await _top(page, "Next").click()
    await expect(page.locator("#said")).to_contain_text("Called Ann")
    await page.get_by_label("Minutes").fill("10")
    await page.get_by_role("button", name="Delay", exact=True).click()
    await expect(page.locator("#said")).to_contain_text("10 min")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_label("Phone").wait_for()
