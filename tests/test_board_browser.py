"""The lobby board in a real chromium: a NEXT shows the called name without a reload
(highlighted), a script-like name is text, and the board fits a TV without scrolling."""

from __future__ import annotations

import pytest

from core.services import calling
from tests.api_helpers import PROVIDER, book, make_provider, make_user, today


async def _line(client, *people: tuple[str, str]) -> None:
    await make_provider(client, code="SPA")
    for phone, name in people:
        await make_user(client, phone=phone, name=name)
        await book(client, user=phone, day=today().isoformat())


@pytest.fixture
async def api(aiohttp_client, live_server):
    """An HTTP client of the same live server the browser opens."""
    return await aiohttp_client(live_server.server)


async def test_the_board_shows_the_called_name_after_next_without_a_reload(api, live_server, page):
    await _line(api, ("+14155550101", "Ann Lee"), ("+14155550102", "Bob Stone"))
    await page.goto(live_server.url("/board/SPA"))
    await page.wait_for_selector(".board-waiting-list li:text('Ann L.')")
    marker = await page.evaluate("window.notReloaded = true")
    assert marker is True
    await calling.call_next(service_account_phone=PROVIDER)
    called = page.locator(".board-serving-list li", has_text="Ann L.")
    await called.wait_for(timeout=5000)
    assert await called.get_attribute("class") == "called"
    assert await page.evaluate("window.notReloaded") is True
    assert await page.locator(".board-waiting-list li").all_text_contents() == ["Bob S."]


async def test_a_customer_named_like_a_script_renders_as_text_on_the_board(api, live_server, page):
    await _line(api, ("+14155550103", "<script>alert(1)</script>"))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(live_server.url("/board/SPA"))
    await calling.call_next(service_account_phone=PROVIDER)
    shown = page.locator(".board-serving-list li").first
    await shown.wait_for(timeout=5000)
    assert await shown.text_content() == "<script>alert(1)</script>"
    assert dialogs == []


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
async def test_a_full_board_fits_a_tv_without_scrolling(api, live_server, page, width, height):
    people = [(f"+1415555{n:04d}", f"Person{n} Longsurname") for n in range(101, 112)]
    await _line(api, *people)
    for _ in range(3):
        await calling.call_next(service_account_phone=PROVIDER)
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(live_server.url("/board/SPA"))
    sizes = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert sizes[0] <= width
    assert sizes[1] <= height
    assert await page.locator(".board-serving-list li").count() == 3


async def test_enable_sound_is_one_click_and_the_board_then_says_sound_on(api, live_server, page):
    await _line(api, ("+14155550101", "Ann Lee"))
    await page.goto(live_server.url("/board/SPA"))
    await page.get_by_role("button", name="Enable sound").click()
    await page.get_by_role("button", name="Sound on").wait_for(timeout=3000)
    await calling.call_next(service_account_phone=PROVIDER)
    await page.locator(".board-serving-list li.called").wait_for(timeout=5000)


async def test_without_javascript_the_board_still_shows_the_line(api, live_server, page_without_js):
    await _line(api, ("+14155550101", "Ann Lee"), ("+14155550102", "Bob Stone"))
    await calling.call_next(service_account_phone=PROVIDER)
    await page_without_js.goto(live_server.url("/board/SPA"))
    assert await page_without_js.locator(".board-serving-list li").all_text_contents() == ["Ann L."]
    assert not await page_without_js.get_by_role("button", name="Enable sound").is_visible()


async def test_a_private_board_opened_with_its_key_stays_live(api, live_server, page):
    await _line(api, ("+14155550101", "Ann Lee"))
    await api.put(f"/service-accounts/{PROVIDER}", json={"board_public": False})
    made = await (await api.post(f"/service-accounts/{PROVIDER}/board-key")).json()
    refused = await page.goto(live_server.url("/board/SPA"))
    assert refused is not None
    assert refused.status == 403
    await page.goto(live_server.url(made["data"]["board_url"]))
    await calling.call_next(service_account_phone=PROVIDER)
    await page.locator(".board-serving-list li", has_text="Ann L.").wait_for(timeout=5000)
