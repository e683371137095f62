"""Browser tests' fixtures: the real app served over HTTP on loopback, and a real
chromium driven by Playwright (tests/conftest.py loads this module as a plugin).

- `live_server`: the app from create_app on the test's own migrated database (the
  `settings` fixture: override it in a test module for other settings), served on
  127.0.0.1 by aiohttp's TestServer with its background tasks running. Its
  `.url(path)` gives an absolute URL for the browser.
- `browser`: Debian's chromium (Playwright cannot download its own browsers here),
  launched per test. Without chromium the test is skipped on a developer's machine
  and FAILS when the environment variable CI is set, so CI never passes with its
  browser tests quietly skipped.
- `page` (JavaScript on) and `page_without_js` (a context with JavaScript off), each
  in a fresh context, closed after the test.

A test that uses `browser` (directly or through `page`) is marked `browser`
automatically, so `pytest -m "not browser"` leaves them out. When the environment
variable WAITLIST_BROWSER_TESTS_FILE names a file, the session appends one line to it,
the number of browser tests that passed; .ci/run fails unless every run counted some.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
COUNT_FILE_VARIABLE = "WAITLIST_BROWSER_TESTS_FILE"


def chromium_path() -> str | None:
    """Where Debian's chromium is, or None."""
    return shutil.which("chromium")


def no_browser(reason: str) -> None:
    """Skip locally; fail under CI, where a browser test must run."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class LiveServer:
    server: TestServer

    @property
    def base(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
async def live_server(aiohttp_server, settings) -> LiveServer:
    """The real app over real HTTP on loopback, for a browser to open."""
    from webhooks.app import create_app

    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    return LiveServer(server)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    if async_playwright is None:
        no_browser("playwright is not installed")
    if path is None:
        no_browser("chromium is not installed (apt-get install -y chromium)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def page_without_js(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(java_script_enabled=False)
    try:
        yield await context.new_page()
    finally:
        await context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


_passed: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and "browser" in report.keywords:
        _passed.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(COUNT_FILE_VARIABLE)
    # Only the main process writes (an xdist worker would count its share only).
    if target and not hasattr(session.config, "workerinput"):
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{len(_passed)}\n")
