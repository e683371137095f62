"""The access log: by default a line per failed or slow request, or one per request;
never a phone."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cli import logs
from core.settings import AccessLogMode
from tests.api_helpers import ANN, PROVIDER, make_provider
from webhooks.app import create_app


@pytest.fixture
def serve_with(aiohttp_server: Any, aiohttp_client: Any, settings: Any) -> Any:
    """A client of the app served with the access log arguments `waitlist serve` uses."""

    async def start(mode: AccessLogMode) -> Any:
        server = await aiohttp_server(create_app(settings), **logs.access_log_options(mode))
        return await aiohttp_client(server)

    return start


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]


async def test_by_default_only_failed_requests_are_logged(serve_with, settings, caplog):
    caplog.set_level(logging.INFO)
    client = await serve_with(settings.access_log)

    assert (await client.get("/healthz")).status == 200
    assert (await client.get(f"/users/{ANN}")).status == 404

    [line] = _access_lines(caplog)
    assert '"GET /users/' in line
    assert " 404 " in line
    assert "5550101" not in line


async def test_a_slow_request_is_logged_even_when_it_succeeds(caplog):
    caplog.set_level(logging.INFO)
    from aiohttp.test_utils import make_mocked_request
    from aiohttp.web import Response

    access = logs.ProblemsAccessLog(logging.getLogger("aiohttp.access"), "")
    request = make_mocked_request("GET", "/healthz")
    access.log(request, Response(), logs.SLOW_REQUEST_SECONDS - 0.001)
    access.log(request, Response(), logs.SLOW_REQUEST_SECONDS)

    [line] = _access_lines(caplog)
    assert line.endswith(f" 200 {logs.SLOW_REQUEST_SECONDS:.3f}s")


async def test_access_log_all_logs_every_request_with_phones_masked(serve_with, caplog):
    caplog.set_level(logging.INFO)
    client = await serve_with("all")
    await make_provider(client)

    assert (await client.get(f"/appointments/?service_account_phone={PROVIDER}")).status == 200

    lines = _access_lines(caplog)
    assert len(lines) == 2
    assert all(" 20" in line for line in lines)
    assert not any("5550179" in line for line in lines)


async def test_access_log_off_logs_nothing(serve_with, caplog):
    caplog.set_level(logging.INFO)
    client = await serve_with("off")

    assert (await client.get(f"/users/{ANN}")).status == 404

    assert _access_lines(caplog) == []
