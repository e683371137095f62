"""Idempotency-Key on the admin API's creates: a retry gets the first answer, once.

Over real HTTP on loopback, on both databases. A booking whose answer is lost after its
commit (a proxy cuts the connection as the answer comes back) is found by the retry.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import pytest

from core.errors import InvalidInput
from core.models import Appointment, IdempotencyRecord, ServiceAccount, User
from core.rules.days import utcnow
from core.services import appointment_views, idempotency
from core.services import booking as booking_service
from tests.api_helpers import ANN, PROVIDER, day_after, make_provider, make_user
from tests.fakes.answer_dropping_proxy import AnswerDroppingProxy

KEY = "Idempotency-Key"


def booking(**changes: Any) -> dict[str, Any]:
    return {
        "user_phone": ANN,
        "service_account_phone": PROVIDER,
        "appointment_date": day_after(1),
        **changes,
    }


CREATES = {
    "/appointments/": (booking, Appointment),
    "/users/": (lambda **c: {"name": "Ann Lee", "phone": "+14155550103", **c}, User),
    "/service-accounts/": (
        lambda **c: {"name": "Zen", "phone": "+12025550111", "code": "ZEN", **c},
        ServiceAccount,
    ),
}


@pytest.fixture
async def api(client):
    await make_provider(client)
    await make_user(client)
    return client


async def post(client, path: str, body: Any, key: str | None, **options: Any):
    headers = {KEY: key} if key is not None else {}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return await client.post(
        path, data=data, headers={**headers, "Content-Type": "application/json"}, **options
    )


@pytest.mark.parametrize("path", list(CREATES))
async def test_the_same_key_and_body_sent_twice_get_the_first_answer_and_create_once(api, path):
    body_of, model = CREATES[path]
    before = await model.all().count()

    first = await post(api, path, body_of(), "key-1")
    first_body = await first.read()
    again = await post(api, path, body_of(), "key-1")

    assert first.status == 201, first_body
    assert (again.status, await again.read()) == (201, first_body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await model.all().count() == before + 1
    assert await IdempotencyRecord.filter(key="key-1").count() == 1


async def test_without_a_key_the_same_booking_twice_is_refused_as_before(api):
    assert (await post(api, "/appointments/", booking(), None)).status == 201
    again = await post(api, "/appointments/", booking(), None)
    assert again.status == 400
    assert "already exists" in (await again.json())["detail"]
    assert await IdempotencyRecord.all().count() == 0


async def test_a_body_spelled_differently_is_the_same_request(api):
    first = await post(api, "/appointments/", booking(notes="window seat"), "k")
    spelled = (
        b'{ "notes" : "window seat",\n  "appointment_date": "%s",'
        b' "service_account_phone": "%s", "user_phone": "%s" }'
        % (day_after(1).encode(), PROVIDER.encode(), ANN.encode())
    )
    again = await post(api, "/appointments/", spelled, "k")
    assert (again.status, await again.read()) == (201, await first.read())
    assert await Appointment.all().count() == 1


async def test_the_same_key_with_another_body_is_refused_with_422(api):
    first = await post(api, "/appointments/", booking(), "k")
    assert first.status == 201
    other = await post(api, "/appointments/", booking(notes="changed my mind"), "k")
    assert other.status == 422
    assert "another request body" in (await other.json())["detail"]
    assert await Appointment.all().count() == 1


async def test_a_key_is_its_endpoints_own(api):
    """The same key on another endpoint is another request."""
    assert (await post(api, "/appointments/", booking(), "shared")).status == 201
    user = await post(api, "/users/", {"name": "Bo", "phone": "+14155550109"}, "shared")
    assert user.status == 201


async def test_a_second_request_with_the_key_while_the_first_runs_gets_409_at_once(
    api, monkeypatch
):
    inside, release = asyncio.Event(), asyncio.Event()
    real_book = booking_service.book

    async def held_book(**fields: Any) -> appointment_views.AppointmentView:
        # The first request books, then stays inside its transaction until released.
        booked = await real_book(**fields)
        inside.set()
        await release.wait()
        return booked

    monkeypatch.setattr(booking_service, "book", held_book)
    first = asyncio.create_task(post(api, "/appointments/", booking(), "k"))
    await inside.wait()
    try:
        second = await post(api, "/appointments/", booking(), "k")
        assert second.status == 409
        assert "still in progress" in (await second.json())["detail"]
    finally:
        release.set()
        first_answer = await first
    first_body = await first_answer.read()
    assert first_answer.status == 201, first_body

    monkeypatch.setattr(booking_service, "book", real_book)
    again = await post(api, "/appointments/", booking(), "k")
    assert (again.status, await again.read()) == (201, first_body)
    assert await Appointment.all().count() == 1


async def test_a_key_older_than_24_hours_is_used_as_new(api):
    first = await post(api, "/appointments/", booking(), "k")
    first_id = (await first.json())["data"]["id"]
    await IdempotencyRecord.filter(key="k").update(
        created_at=utcnow() - timedelta(hours=24, seconds=1)
    )

    # Another body: no 422, the old record counts as absent and is replaced.
    fresh = await post(api, "/appointments/", booking(appointment_date=day_after(2)), "k")
    data = (await fresh.json())["data"]
    assert fresh.status == 201
    assert data["id"] != first_id
    records = await IdempotencyRecord.filter(key="k")
    assert len(records) == 1
    assert records[0].created_at > utcnow() - timedelta(minutes=1)
    assert orjson.loads(records[0].body or "")["data"]["id"] == data["id"]


async def test_a_key_just_under_24_hours_old_still_answers(api):
    first = await post(api, "/appointments/", booking(), "k")
    await IdempotencyRecord.filter(key="k").update(
        created_at=utcnow() - timedelta(hours=23, minutes=59)
    )
    again = await post(api, "/appointments/", booking(), "k")
    assert (again.status, await again.read()) == (201, await first.read())


async def test_a_booking_whose_answer_was_lost_after_the_commit_is_found_by_the_retry(api):
    server = api.server
    async with AnswerDroppingProxy(server.host, server.port) as proxy:
        async with aiohttp.ClientSession(proxy.url) as session:
            with pytest.raises(aiohttp.ClientError):
                await post(session, "/appointments/", booking(), "lost-answer")
        assert proxy.dropped == 1
        # The booking committed though its answer never came.
        booked = await Appointment.all()
        assert len(booked) == 1

        proxy.drop_answers = False
        async with aiohttp.ClientSession(proxy.url) as session:
            retry = await post(session, "/appointments/", booking(), "lost-answer")
            body = await retry.json()
    assert retry.status == 201, body
    assert body["data"]["id"] == booked[0].id
    assert await Appointment.all().count() == 1


async def test_a_booking_that_fails_after_its_insert_leaves_neither_the_booking_nor_the_key(
    api, monkeypatch
):
    """The raw-SQL booking runs on the transaction that records the key: one commit."""
    real_book = booking_service.book

    async def book_then_fail(**fields: Any) -> appointment_views.AppointmentView:
        await real_book(**fields)
        raise InvalidInput("refused after the insert")

    monkeypatch.setattr(booking_service, "book", book_then_fail)
    refused = await post(api, "/appointments/", booking(), "k")
    assert refused.status == 422
    assert await Appointment.all().count() == 0
    assert await IdempotencyRecord.all().count() == 0


async def test_a_refused_create_is_not_remembered(api):
    """Nothing was written, so the same key may be sent again and gets today's answer."""
    stranger = booking(user_phone="+14155550177")
    assert (await post(api, "/appointments/", stranger, "k")).status == 404
    await make_user(api, "+14155550177", "Cy Young")
    assert (await post(api, "/appointments/", stranger, "k")).status == 201


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "caf\u00e9", "tab\there"],
    ids=["empty", "256 characters", "not ASCII", "control character"],
)
async def test_an_unusable_key_is_refused_with_422(api, key):
    response = await api.post(
        "/appointments/",
        data=orjson.dumps(booking()),
        headers={KEY: key, "Content-Type": "application/json"},
    )
    detail = (await response.json())["detail"]
    assert response.status == 422, detail
    assert detail[0]["loc"] == ["header", KEY]
    assert await Appointment.all().count() == 0


async def test_a_key_of_255_printable_characters_is_accepted(api):
    key = ("".join(chr(c) for c in range(0x21, 0x7F)) * 3)[:255]
    assert (await post(api, "/appointments/", booking(), key)).status == 201
    assert (await post(api, "/appointments/", booking(), key)).status == 201
    assert await Appointment.all().count() == 1


async def test_a_body_that_is_not_json_gets_the_usual_422(api):
    response = await post(api, "/appointments/", b"{not json", "k")
    assert response.status == 422
    assert (await response.json())["detail"][0]["type"] == "json_invalid"
    assert await IdempotencyRecord.all().count() == 0


async def test_a_keyed_create_purges_expired_records_now_and_then(api, monkeypatch):
    await post(api, "/appointments/", booking(), "old")
    await IdempotencyRecord.filter(key="old").update(created_at=utcnow() - timedelta(days=2))
    monkeypatch.setattr(idempotency, "_last_purge", None)

    # A create without a key does not look at the table at all.
    await post(api, "/users/", {"name": "Bo", "phone": "+14155550109"}, None)
    assert await IdempotencyRecord.filter(key="old").exists()

    await post(api, "/users/", {"name": "Cy", "phone": "+14155550108"}, "new")
    assert await IdempotencyRecord.filter(key="old").count() == 0
    assert await IdempotencyRecord.filter(key="new").count() == 1


async def test_the_creates_document_the_key_header_and_the_409(client):
    spec = await (await client.get("/openapi.json")).json()
    for path in CREATES:
        operation = spec["paths"][path]["post"]
        header = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in header] == [(KEY, False)]
        assert header[0]["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"])
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert "409" not in spec["paths"]["/appointments/{id}"]["get"]["responses"]
