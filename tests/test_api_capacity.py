"""Capacity through the admin API on a real database: the fields on service accounts,
joins past max_waiting or daily_limit refused with 400 naming the next day with room,
the last place won by exactly one of many racing bookings, and chairs dividing waits."""

from __future__ import annotations

import asyncio

import pytest

from core.models import ServiceAccount
from core.services import closing
from tests.api_helpers import (
    ANN,
    BOB,
    PROVIDER,
    book,
    data_of,
    day_after,
    detail_of,
    make_provider,
    make_user,
)

CY = "+14155550103"


async def test_a_provider_has_no_limits_and_one_chair_until_told_otherwise(client):
    made = await make_provider(client)
    assert (made["max_waiting"], made["daily_limit"], made["chairs"]) == (None, None, 1)
    assert made["closed_on"] is None
    changed = await data_of(
        await client.put(
            f"/service-accounts/{PROVIDER}",
            json={"max_waiting": 5, "daily_limit": 20, "chairs": 3},
        ),
        200,
    )
    assert (changed["max_waiting"], changed["daily_limit"], changed["chairs"]) == (5, 20, 3)
    # null lifts a limit again.
    lifted = await data_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"max_waiting": None}), 200
    )
    assert lifted["max_waiting"] is None
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert (read["max_waiting"], read["daily_limit"], read["chairs"]) == (None, 20, 3)


@pytest.mark.parametrize(
    "fields",
    [
        {"max_waiting": 0},
        {"daily_limit": -1},
        {"chairs": 0},
        {"chairs": None},
        {"max_waiting": "many"},
        {"daily_limit": 10**9},
    ],
)
async def test_a_bad_limit_is_refused_with_a_detail_on_create_and_update(client, fields):
    payload = {"name": "Spa", "phone": PROVIDER, **fields}
    response = await client.post("/service-accounts/", json=payload)
    assert 400 <= response.status < 500
    assert "detail" in await response.json()
    await make_provider(client)
    response = await client.put(f"/service-accounts/{PROVIDER}", json=fields)
    assert 400 <= response.status < 500
    assert "detail" in await response.json()


async def test_the_capacity_fields_are_in_the_openapi_document(client):
    schemas = (await (await client.get("/openapi.json")).json())["components"]["schemas"]
    for name in ("ServiceAccountCreate", "ServiceAccountUpdate", "ServiceAccountOut"):
        for field in ("max_waiting", "daily_limit", "chairs"):
            assert field in schemas[name]["properties"], (name, field)
    assert schemas["ServiceAccountCreate"]["properties"]["chairs"]["minimum"] == 1


async def test_a_join_past_max_waiting_is_refused_with_the_next_day_that_has_room(client):
    await make_provider(client, max_waiting=2)
    for phone in (ANN, BOB, CY):
        await make_user(client, phone=phone)
    for phone in (ANN, BOB):
        await book(client, user=phone, day=day_after(1))
    detail = await detail_of(
        await client.post(
            "/appointments/",
            json={"user_phone": CY, "service_account_phone": PROVIDER,
                  "appointment_date": day_after(1)},
        ),
        400,
    )
    assert f"next day with room: {day_after(2)}" in detail
    await book(client, user=CY, day=day_after(2))


async def test_the_daily_limit_counts_bookings_and_a_cancellation_frees_a_place(client):
    await make_provider(client, daily_limit=1)
    await make_user(client, phone=ANN)
    await make_user(client, phone=BOB)
    first = await book(client, user=ANN, day=day_after(1))
    payload = {"user_phone": BOB, "service_account_phone": PROVIDER,
               "appointment_date": day_after(1)}
    detail = await detail_of(await client.post("/appointments/", json=payload), 400)
    assert "full" in detail
    await data_of(await client.delete(f"/appointments/{first['id']}"), 200)
    await data_of(await client.post("/appointments/", json=payload), 201)


async def race_joins(client, count: int) -> list[int]:
    """`count` customers joining tomorrow's line at once: the statuses, in order."""
    phones = [f"+1415555{i:04d}" for i in range(200, 200 + count)]
    for phone in phones:
        await make_user(client, phone=phone)
    payloads = [
        {"user_phone": p, "service_account_phone": PROVIDER, "appointment_date": day_after(1)}
        for p in phones
    ]
    responses = await asyncio.gather(*(client.post("/appointments/", json=p) for p in payloads))
    return [r.status for r in responses]


async def test_racing_joins_for_the_last_places_never_go_past_the_limit(client):
    await make_provider(client, daily_limit=3, max_waiting=3)
    assert sorted(await race_joins(client, 12)) == [201] * 3 + [400] * 9
    queue = await data_of(
        await client.get(
            "/appointments/", params={"service_account_phone": PROVIDER, "day": day_after(1)}
        ),
        200,
    )
    assert len(queue) == 3


async def test_without_limits_many_racing_joins_all_get_in(client):
    await make_provider(client)
    assert await race_joins(client, 8) == [201] * 8


async def test_a_join_for_today_after_close_is_400_and_later_days_still_book(client):
    await make_provider(client)
    await make_user(client, phone=ANN)
    await closing.close_today(account=await ServiceAccount.get(phone=PROVIDER))
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["closed_on"] == day_after(0)
    payload = {"user_phone": ANN, "service_account_phone": PROVIDER,
               "appointment_date": day_after(0)}
    detail = await detail_of(await client.post("/appointments/", json=payload), 400)
    assert detail.endswith(f"closed for joins today; next day with room: {day_after(1)}")
    await book(client, user=ANN, day=day_after(1))
