"""Bad input, authentication, docs, logging and database outages."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import web
from openapi_spec_validator import validate
from tortoise.exceptions import OperationalError

from core.settings import Settings
from tests.api_helpers import ANN, PROVIDER, book, data_of, detail_of, make_provider, make_user
from tests.conftest import ON_POSTGRES
from webhooks.app import create_app
from webhooks.middleware import error_middleware

TOKEN = "s3cr3t-admin-token-for-tests"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"", "application/json"),
        (b'"just a string"', "application/json"),
        (b'{"name": "\\ud800", "phone": "+14155550101"}', "application/json"),
        (b"name=x&phone=y", "application/x-www-form-urlencoded"),
    ],
)
async def test_unreadable_bodies_are_422_with_detail(client, body, content_type):
    response = await client.post("/users/", data=body, headers={"Content-Type": content_type})
    await detail_of(response, 422)


@pytest.mark.parametrize(
    "payload",
    [
        {"name": 5, "phone": ANN},
        {"name": "Ann", "phone": 14155550101},
        {"name": "", "phone": ANN},
        {"name": "A" * 201, "phone": ANN},
        {"name": "Nul\x00", "phone": ANN},
        {"phone": ANN},
        {"name": "Ann", "phone": ANN, "email": 7},
    ],
)
async def test_wrong_types_and_missing_fields_are_422(client, payload):
    await detail_of(await client.post("/users/", json=payload), 422)


async def test_an_oversize_body_is_413_with_detail_and_nothing_is_stored(client):
    response = await client.post(
        "/users/", json={"name": "A", "phone": ANN, "pad": "x" * (70 * 1024)}
    )
    await detail_of(response, 413)
    assert await data_of(await client.get("/users/"), 200) == []


async def test_an_unknown_route_and_a_wrong_method_answer_json(client):
    await detail_of(await client.get("/nowhere"), 404)
    response = await client.patch("/users/")
    await detail_of(response, 405)
    assert "POST" in response.headers["Allow"]


async def test_weights_must_be_finite_numbers(client):
    response = await client.post(
        "/service-accounts/",
        data=b'{"name": "S", "phone": "+12025550179", "no_show_weight": 1e999}',
        headers={"Content-Type": "application/json"},
    )
    await detail_of(response, 422)


@pytest.fixture
async def secured(aiohttp_client, database_url):
    settings = Settings(_env_file=None, database_url=database_url, admin_api_token=TOKEN)
    return await aiohttp_client(create_app(settings))


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
async def test_without_the_right_bearer_token_the_admin_api_answers_401(secured, header):
    headers = {"Authorization": header} if header else {}
    response = await secured.get("/users/", headers=headers)
    assert await detail_of(response, 401) == "Not authenticated"


async def test_with_the_token_the_admin_api_works_and_docs_stay_open(secured):
    ok = await secured.get("/users/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert await data_of(ok, 200) == []
    for path in ("/docs", "/redoc", "/openapi.json", "/healthz"):
        assert (await secured.get(path)).status == 200, path


async def test_the_openapi_document_is_valid_31_and_lists_every_endpoint(client):
    spec = await (await client.get("/openapi.json")).json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/users/",
        "/users/{phone}",
        "/users/{phone}/appointments",
        "/service-accounts/",
        "/service-accounts/{phone}",
        "/appointments/",
        "/appointments/{id}",
        "/appointments/{id}/complete",
        "/appointments/{id}/no-show",
        "/service-accounts/{phone}/appointments",
        "/service-accounts/{phone}/stats",
        "/service-accounts/{phone}/appointments.csv",
        "/service-accounts/{phone}/board-key",
        "/healthz",
        "/readyz",
        "/metrics",
    }


async def test_the_openapi_document_carries_the_package_version(client):
    spec = await (await client.get("/openapi.json")).json()
    assert spec["info"]["version"] == importlib.metadata.version("waitlist")


async def test_the_docs_pages_load_their_assets_from_this_server(client):
    for page, asset in (
        ("/docs", "/static/swagger-ui-bundle.js"),
        ("/redoc", "/static/redoc.standalone.js"),
        ("/docs/", "/static/swagger-ui-bundle.js"),
        ("/redoc/", "/static/redoc.standalone.js"),
    ):
        html = await (await client.get(page)).text()
        assert asset in html
        assert "http" not in html.split("<body>")[1]
        assert (await client.get(asset)).status == 200


async def test_logs_show_phone_numbers_masked(client, caplog):
    caplog.set_level(logging.INFO)
    await make_provider(client)
    await client.get(f"/appointments/?service_account_phone={PROVIDER}&user_phone=%2B14155550101")
    await client.get(f"/users/{ANN}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "5550101" not in logged
    assert "5550179" not in logged


# A database outage needs a database we can take away and bring back: a TCP
# proxy on loopback in front of PostgreSQL.
class _Proxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.pipes: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except Exception:  # noqa: S110 - a broken pipe just ends this direction
            pass
        finally:
            # Closing both ends is what a database restart looks like to the client.
            writer.close()

    async def _handle(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for task in (self._pipe(reader, up_writer), self._pipe(up_reader, writer)):
            t = asyncio.create_task(task)
            self.pipes.add(t)
            t.add_done_callback(self.pipes.discard)

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        await self.server.wait_closed()


@pytest.mark.skipif(not ON_POSTGRES, reason="an outage is a network database's failure")
async def test_a_lost_database_gives_503_and_service_resumes_when_it_returns(
    aiohttp_client, database_url
):
    parts = urlsplit(database_url)
    proxy = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.up()
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    client = await aiohttp_client(create_app(Settings(_env_file=None, database_url=url)))
    await make_provider(client)
    await proxy.down()
    assert "unavailable" in (await detail_of(await client.get("/users/"), 503)).lower()
    await detail_of(await client.post("/users/", json={"name": "A", "phone": ANN}), 503)
    await proxy.up()
    for _ in range(50):
        response = await client.get("/service-accounts/")
        if response.status == 200:
            break
        await asyncio.sleep(0.1)
    assert [a["phone"] for a in await data_of(response, 200)] == [PROVIDER]
    await make_user(client)
    await book(client)
    await proxy.down()


async def test_the_run_is_on_the_database_the_runner_asked_for(orm):
    from tortoise import connections

    expected = os.environ.get("WAITLIST_EXPECT_DATABASE")
    if expected is None:
        pytest.skip("WAITLIST_EXPECT_DATABASE not set: plain pytest run")
    dialect = connections.get("default").capabilities.dialect
    assert dialect == expected


async def test_a_change_that_collides_with_another_is_503_and_asks_for_a_retry(aiohttp_client):
    # PostgreSQL aborts one of two deadlocked transactions; the route stands in for a
    # request whose transaction it chose.
    async def collides(request: web.Request) -> web.Response:
        try:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        except asyncpg.DeadlockDetectedError as exc:
            raise OperationalError(exc) from exc

    app = web.Application(middlewares=[error_middleware])
    app.router.add_delete("/users/{phone}", collides)
    client = await aiohttp_client(app)

    answer = await client.delete("/users/+14155550101")

    assert answer.status == 503
    assert "try again" in (await answer.json())["detail"]
