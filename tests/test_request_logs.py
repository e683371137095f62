"""Each request's id (X-Request-Id) and the log lines it writes, as text or JSON."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from cli import logs
from tests.api_helpers import ANN, PROVIDER, day_after, make_provider
from tests.fakes.twilio_api import FakeTwilio
from tests.sms_support import sms_settings
from webhooks.app import create_app

_GENERATED = re.compile(r"[0-9a-f]{12}-[0-9a-f]+")


async def test_a_well_formed_request_id_from_the_proxy_comes_back_in_the_response(client):
    given = "edge-7f3a.b_9-" + "x" * 50

    response = await client.get("/healthz", headers={"X-Request-Id": given})

    assert response.headers["X-Request-Id"] == given


@pytest.mark.parametrize(
    "malformed", ["", "has space", "x" * 65, "quote\"d", "semi;colon", "ünïcode"]
)
async def test_a_malformed_request_id_is_replaced_with_a_new_one(client, malformed):
    response = await client.get(f"/users/{ANN}", headers={"X-Request-Id": malformed})

    assert response.status == 404
    assert _GENERATED.fullmatch(response.headers["X-Request-Id"])


async def test_every_request_gets_its_own_id_when_none_is_given(client):
    first = await client.get("/healthz")
    second = await client.get("/no/such/route")

    ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
    assert len(ids) == 2
    assert all(_GENERATED.fullmatch(i) for i in ids)


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """What the root logger writes through the handler `waitlist serve` installs, in
    the format asked for; a function giving the lines written so far."""
    root = logging.getLogger()
    installed: list[logging.Handler] = []
    streams: dict[str, io.StringIO] = {}
    old_level = root.level

    def start(log_format: Any) -> None:
        stream = streams[log_format] = io.StringIO()
        handler = logs.handler(log_format, stream)
        root.addHandler(handler)
        installed.append(handler)
        root.setLevel(logging.INFO)

    def lines(log_format: str) -> list[str]:
        return streams[log_format].getvalue().splitlines()

    yield start, lines
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(old_level)


async def _serve(aiohttp_server: Any, aiohttp_client: Any, settings: Any) -> Any:
    server = await aiohttp_server(create_app(settings), **logs.access_log_options("all"))
    return await aiohttp_client(server)


async def test_json_log_lines_carry_the_request_id_route_status_duration_and_masked_phones(
    aiohttp_server, aiohttp_client, database_url, log_lines
):
    start, lines = log_lines
    start("json")
    async with FakeTwilio() as api:
        client = await _serve(aiohttp_server, aiohttp_client, sms_settings(database_url, api.url))
        # A forged SMS: the handler logs a warning inside the request, and its path
        # carries a phone in the query.
        forged = await client.post(
            f"/webhooks/twilio/sms?for={ANN}",
            data={"From": ANN, "Body": "HI", "MessageSid": "SM" + "1" * 32},
            headers={"X-Twilio-Signature": "bad", "X-Request-Id": "req-forged-1"},
        )
        missing = await client.get(f"/users/{ANN}", headers={"X-Request-Id": "req-user-2"})

    assert forged.status == 403
    assert missing.status == 404
    records = [json.loads(line) for line in lines("json")]
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)
    by_id: dict[str | None, list[dict[str, Any]]] = {}
    for record in records:
        by_id.setdefault(record["request_id"], []).append(record)

    warning = next(r for r in by_id["req-forged-1"] if r["logger"] == "webhooks.sms.routes")
    assert warning["level"] == "WARNING"
    assert "bad signature" in warning["message"]
    [access] = [r for r in by_id["req-user-2"] if r["logger"] == "aiohttp.access"]
    assert access["method"] == "GET"
    assert access["route"] == "/users/{phone}"
    assert access["status"] == 404
    assert isinstance(access["duration"], float)
    assert access["duration"] >= 0
    assert "***0101" in access["message"]
    assert not any("5550101" in line for line in lines("json"))


async def test_text_log_lines_name_the_request_id_and_stay_the_default_shape(
    aiohttp_server, aiohttp_client, settings, log_lines
):
    start, lines = log_lines
    start("text")
    client = await _serve(aiohttp_server, aiohttp_client, settings)

    await client.get(f"/users/{ANN}", headers={"X-Request-Id": "req-text-3"})

    [access] = [line for line in lines("text") if " aiohttp.access " in line]
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aiohttp.access \[req-text-3\]: ", access
    ), access
    assert "5550101" not in access
    logging.getLogger("waitlist").info("outside any request")
    assert lines("text")[-1].endswith(" INFO waitlist: outside any request")


async def test_a_streamed_response_carries_its_request_id_too(client):
    await make_provider(client)

    response = await client.get(
        f"/service-accounts/{PROVIDER}/appointments.csv?from={day_after(0)}&to={day_after(1)}",
        headers={"X-Request-Id": "req-csv-4"},
    )

    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["X-Request-Id"] == "req-csv-4"
