"""Which failures are a database outage (503, and a retry when nothing was written)
and which stay bugs (500): the rule in core.connectivity, applied by the middleware."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from aiohttp import web
from tortoise.exceptions import DBConnectionError

from core import connectivity
from core.connectivity import DatabaseUnavailable
from tests.conftest import ON_POSTGRES
from webhooks.middleware import error_middleware
from webhooks.state import RETRY_LOST_CONNECTIONS


def _app(path: str, handler) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[RETRY_LOST_CONNECTIONS] = True
    app.router.add_post(path, handler)
    return app


@pytest.mark.parametrize(
    "bug",
    [
        # Two tasks using one connection at once: our mistake, not the database's.
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.InternalClientError("unexpected state"),
        ConnectionResetError("a reset on a connection that is not the database's"),
        OSError("disk full"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_errors_that_are_not_a_lost_database_stay_500(aiohttp_client, bug):
    async def fails(request: web.Request) -> web.Response:
        raise bug

    client = await aiohttp_client(_app("/users/", fails))
    answer = await client.post("/users/", json={})
    assert answer.status == 500


async def test_a_request_that_lost_its_connection_before_writing_is_retried_once(aiohttp_client):
    calls = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.json()  # read once; aiohttp keeps it for the second run
        if calls == 1:
            raise DatabaseUnavailable("connection lost: terminating connection")
        return web.json_response(await request.json(), status=201)

    client = await aiohttp_client(_app("/appointments/", flaky))
    answer = await client.post("/appointments/", json={"a": 1})
    assert answer.status == 201
    assert await answer.json() == {"a": 1}
    assert calls == 2


async def test_a_request_that_keeps_losing_its_connection_is_503_after_one_retry(aiohttp_client):
    calls = 0

    async def down(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        raise DatabaseUnavailable("cannot connect: refused")

    client = await aiohttp_client(_app("/appointments/", down))
    answer = await client.post("/appointments/", json={})
    assert answer.status == 503
    assert calls == 2


async def test_a_channel_webhook_is_never_run_twice(aiohttp_client):
    calls = 0

    async def webhook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        raise DatabaseUnavailable("connection lost")

    client = await aiohttp_client(_app("/webhooks/twilio/sms", webhook))
    assert (await client.post("/webhooks/twilio/sms", data=b"")).status == 503
    assert calls == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL pools note what may have committed")
async def test_a_request_that_may_have_committed_is_not_retried(aiohttp_client, orm):
    from tortoise import connections

    calls = 0

    async def wrote_then_lost(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await connections.get("default").execute_query(
            "INSERT INTO users (phone, name, created_at) VALUES ($1, 'Ann', now())",
            [f"+1415555010{calls}"],
        )
        raise DatabaseUnavailable("connection lost after the insert")

    client = await aiohttp_client(_app("/users/", wrote_then_lost))
    assert (await client.post("/users/", json={})).status == 503
    assert calls == 1
    rows = await connections.get("default").execute_query_dict("SELECT phone FROM users")
    assert [r["phone"] for r in rows] == ["+14155550101"]


@pytest.mark.parametrize(
    ("query", "in_transaction", "may_commit"),
    [
        ("SELECT 1", False, False),
        ("  select * from users", False, False),
        ("BEGIN ISOLATION LEVEL READ COMMITTED;", False, False),
        ("INSERT INTO users VALUES (1)", False, True),
        ("WITH x AS (DELETE FROM users RETURNING id) SELECT 1", False, True),
        ("INSERT INTO users VALUES (1)", True, False),
        ("COMMIT;", True, True),
        ("RELEASE SAVEPOINT sp1", True, False),
    ],
)
def test_what_counts_as_possibly_committed(query, in_transaction, may_commit):
    assert connectivity._may_commit(query, in_transaction) is may_commit


def test_a_failure_is_an_outage_if_a_lost_connection_led_to_it():
    failed = RuntimeError("rollback failed")
    failed.__cause__ = DatabaseUnavailable("connection lost")
    assert connectivity.is_outage(failed)
    assert connectivity.is_outage(asyncpg.CannotConnectNowError("starting up"))
    assert not connectivity.is_outage(ConnectionRefusedError("not the database's"))


def test_the_app_retries_lost_connections_only_where_commits_are_noted(settings):
    from webhooks.app import create_app
    from webhooks.state import RETRY_LOST_CONNECTIONS as RETRIES

    # A SQLite file notes no commits (core.connectivity watches the PostgreSQL pools
    # only), so a retry there could write twice; it has no connection to lose anyway.
    assert create_app(settings)[RETRIES] is ON_POSTGRES


def test_a_background_loop_logs_an_outage_as_one_warning_line_and_a_bug_with_its_traceback(
    caplog,
):
    worker = logging.getLogger("tests.loop")
    lost = DBConnectionError("connection refused")
    with caplog.at_level(logging.INFO, logger="tests.loop"):
        connectivity.log_loop_failure(worker, "outbox dispatch", 3, lost)
        try:
            raise KeyError("appointment_id")
        except KeyError as bug:
            connectivity.log_loop_failure(worker, "outbox dispatch", 1, bug)
    outage, failure = caplog.records
    assert outage.levelno == logging.WARNING
    assert outage.exc_info is None
    assert outage.getMessage() == (
        "outbox dispatch: database unavailable (3 in a row): DBConnectionError: connection refused"
    )
    assert failure.levelno == logging.ERROR
    assert failure.exc_info is not None
    assert failure.getMessage() == "outbox dispatch failed (1 in a row)"
