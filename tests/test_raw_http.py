"""What any client can send over a socket: a hang-up mid-body, a malformed request,
`Expect: 100-continue` for a body over the limit. Raw sockets against a real server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from cli import logs
from webhooks.app import MAX_BODY_BYTES, create_app


@pytest.fixture
async def port(settings) -> AsyncIterator[int]:
    """The app served as `waitlist serve` serves it (aiohttp's test server cancels a
    handler when its client goes away; run_app does not)."""
    runner = web.AppRunner(create_app(settings), **logs.access_log_options(settings.access_log))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site.port
    finally:
        await runner.cleanup()


async def _send(port: int, data: bytes, *, answer: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 30) if answer else b""
    finally:
        writer.close()


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_client_that_hangs_up_mid_body_is_not_a_database_outage(port, caplog):
    caplog.set_level(logging.INFO)
    head = b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    await _send(port, head + b'Content-Length: 1000\r\n\r\n{"name": "Ann', answer=False)
    for _ in range(300):
        if "client closed the connection during POST /users/" in caplog.text:
            break
        await asyncio.sleep(0.1)
    assert "client closed the connection during POST /users/" in caplog.text
    assert "database unavailable" not in caplog.text
    assert _problems(caplog) == []


@pytest.mark.parametrize(
    ("request_bytes", "what"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "Invalid header token"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
            "more than 8190 bytes",
        ),
        (b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", "Content-Length"),
    ],
    ids=["bad-header", "header-too-long", "bad-content-length"],
)
async def test_a_malformed_request_is_400_and_one_warning_line(port, caplog, request_bytes, what):
    caplog.set_level(logging.INFO)
    answer = await _send(port, request_bytes)
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    [line] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert line.levelno == logging.WARNING
    assert line.exc_info is None
    assert "\n" not in line.getMessage()
    assert what in line.getMessage()
    assert _problems(caplog) == []


async def test_expect_100_continue_for_a_body_over_the_limit_is_413_at_once(port):
    answer = await _send(
        port,
        b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n".encode()
        + b"Expect: 100-continue\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"100 Continue" not in answer
    assert b'"detail"' in answer


async def test_expect_100_continue_within_the_limit_is_invited_then_served(port):
    body = b'{"name": "Ann Lee", "phone": "+14155550101"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n".encode()
            + b"Expect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        invited = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert invited == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 30)
        assert status.startswith(b"HTTP/1.1 201 "), status
    finally:
        writer.close()
