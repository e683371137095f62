"""The status page in a real browser (Playwright driving Debian's chromium): it turns to
"It's your turn" when the provider texts NEXT, without a reload; Leave works; and with
JavaScript off the page and its forms still work.

The browser is the shared one (tests/browser.py): Debian's chromium, a failure in CI
when it is missing.
"""

from __future__ import annotations

from core.models import Appointment, Status
from tests.sms_support import (  # noqa: F401 (fixtures)
    ANN,
    PROVIDER_PHONE,
    one_reply,
    twilio_api_fixture,
)
from tests.test_status_page import (  # noqa: F401 (fixtures)
    joined,
    linked_sms_fixture,
    provider_fixture,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_the_page_turns_to_its_your_turn_on_next_by_sms_without_a_reload(
    linked_sms, provider, browser
):
    from playwright.async_api import expect

    token = await joined(linked_sms, ANN, "Ann Bell")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(str(linked_sms.client.make_url(f"/s/{token}")))
    await expect(page.locator("#headline")).to_have_text("You're in line")
    await expect(page.locator("#position")).to_have_text("1")
    await expect(page.get_by_role("button", name="I'm here")).to_be_hidden()
    # Marked in the page itself: a reload would lose it.
    await page.evaluate("window.sameDocument = true")

    await one_reply(linked_sms, PROVIDER_PHONE, "next")

    await expect(page.locator("#headline")).to_have_text("It's your turn", timeout=2000)
    await expect(page.get_by_role("button", name="I'm here")).to_be_visible()
    assert await page.evaluate("window.sameDocument") is True
    await context.close()


async def test_leave_the_line_asks_first_then_leaves(linked_sms, provider, browser):
    from playwright.async_api import expect

    token = await joined(linked_sms, ANN, "Ann Bell")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(str(linked_sms.client.make_url(f"/s/{token}")))

    await page.get_by_role("button", name="Leave the line").click()
    await expect(page.get_by_role("heading")).to_have_text("Leave the line at Zen Spa?")
    assert (await Appointment.get(user__phone=ANN)).status is Status.ACTIVE
    await page.get_by_role("button", name="Yes, leave the line").click()

    await expect(page.locator("#headline")).to_have_text("You left the line")
    await expect(page.get_by_role("button", name="Leave the line")).to_be_hidden()
    assert (await Appointment.get(user__phone=ANN)).status is Status.CANCELED
    await context.close()


async def test_with_javascript_off_the_page_shows_the_state_and_its_forms_work(
    linked_sms, provider, browser
):
    from playwright.async_api import expect

    token = await joined(linked_sms, ANN, "Ann Bell")
    context = await browser.new_context(java_script_enabled=False, **PHONE)
    page = await context.new_page()
    url = str(linked_sms.client.make_url(f"/s/{token}"))
    await page.goto(url)
    await expect(page.locator("#headline")).to_have_text("You're in line")
    await expect(page.locator("#ahead")).to_have_text("0")

    await one_reply(linked_sms, PROVIDER_PHONE, "next")
    await page.reload()
    await expect(page.locator("#headline")).to_have_text("It's your turn")
    await page.get_by_role("button", name="I'm here").click()
    await expect(page.get_by_role("status")).to_have_text("Thanks: we told them you're coming.")
    assert (await Appointment.get(user__phone=ANN)).confirmed_at is not None

    await page.get_by_role("button", name="Leave the line").click()
    await page.get_by_role("button", name="Yes, leave the line").click()
    await expect(page.locator("#headline")).to_have_text("You left the line")
    await context.close()
