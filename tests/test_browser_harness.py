"""The browser harness itself: chromium opens the live app over loopback, runs its
JavaScript, and a context can have JavaScript off."""

from __future__ import annotations


async def test_the_browser_loads_the_live_apps_static_files_over_loopback(live_server, page):
    response = await page.goto(live_server.url("/static/pages.css"))
    assert response is not None
    assert response.ok
    assert live_server.base.startswith("http://127.0.0.1:")


async def test_a_page_runs_javascript_and_a_page_without_js_does_not(page, page_without_js):
    html = "<p id=o>off</p><script>document.getElementById('o').textContent='on'</script>"
    await page.set_content(html)
    await page_without_js.set_content(html)
    assert await page.text_content("#o") == "on"
    assert await page_without_js.text_content("#o") == "off"
