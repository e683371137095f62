"""Liveness and readiness: /healthz says the process answers, /readyz that the
database does (SELECT 1 within a second); both open to load balancers without a token."""

from __future__ import annotations

import asyncio

import pytest

from core import db
from core.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.tcp_proxy import Forwarder
from webhooks.app import READY_TIMEOUT_SECONDS, create_app

TOKEN = "a-token-for-this-test-only"


async def test_readyz_answers_ready_while_the_database_answers(client):
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_readyz_and_healthz_need_no_admin_token(aiohttp_client, database_url):
    settings = Settings(_env_file=None, database_url=database_url, admin_api_token=TOKEN)  # type: ignore[call-arg]
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/users/")).status == 401
    assert (await client.get("/readyz")).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_readyz_is_503_with_a_detail_when_the_database_is_too_slow(client, monkeypatch):
    async def never_answers() -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(db, "ping", never_answers)
    response = await asyncio.wait_for(client.get("/readyz"), 30)
    assert response.status == 503
    body = await response.json()
    assert body["detail"] == f"Database did not answer within {READY_TIMEOUT_SECONDS:g} s"


@pytest.mark.skipif(not ON_POSTGRES, reason="a network database that goes away")
async def test_with_the_database_gone_healthz_is_200_and_readyz_503_until_it_returns(
    aiohttp_client, database_url
):
    forwarder, url = Forwarder.in_front_of(database_url)
    forwarder.start()
    try:
        client = await aiohttp_client(create_app(Settings(_env_file=None, database_url=url)))  # type: ignore[call-arg]
        assert (await client.get("/readyz")).status == 200
        forwarder.stop()
        down = await client.get("/readyz")
        assert down.status == 503
        assert "detail" in await down.json()
        assert (await client.get("/healthz")).status == 200
        forwarder.start()
        for _ in range(300):
            if (await client.get("/readyz")).status == 200:
                break
            await asyncio.sleep(0.1)
        assert (await client.get("/readyz")).status == 200
    finally:
        forwarder.stop()


async def test_the_openapi_document_describes_both_probes_as_open(client):
    spec = await (await client.get("/openapi.json")).json()
    for path in ("/healthz", "/readyz"):
        assert spec["paths"][path]["get"]["security"] == []
    assert set(spec["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
