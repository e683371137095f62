"""Dates at the edges through the admin API: the booking horizon, absurd days, and
closing a visit only once its day has come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
    today,
)


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-31T23:30:00",
        "9999-12-31T23:30:00-05:00",
        "9999-12-31",
        "2999-01-01",
    ],
)
async def test_a_date_far_ahead_is_422_naming_the_horizon_never_a_500(client, when):
    await make_provider(client, timezone="America/New_York")
    await make_user(client)
    detail = await book(client, day=when, status=422)
    assert "90 days ahead" in detail


async def test_a_date_before_year_one_in_utc_is_a_past_day_not_a_500(client):
    await make_provider(client, timezone="Asia/Tokyo")
    await make_user(client)
    detail = await book(client, day="0001-01-01T00:00:00+05:00", status=422)
    assert "past" in detail


async def test_the_horizon_is_the_providers_own(client):
    await make_provider(client, booking_horizon_days=7)
    await make_user(client)
    assert "7 days ahead" in await book(client, day=day_after(8), status=422)
    assert (await book(client, day=day_after(7)))["day"] == day_after(7)


async def test_the_default_horizon_takes_90_days_ahead_and_refuses_91(client):
    provider = await make_provider(client)
    assert provider["booking_horizon_days"] == 90
    await make_user(client)
    detail = await book(client, day=day_after(91), status=422)
    assert day_after(90) in detail
    await book(client, day=day_after(90))


async def test_the_horizon_is_set_read_and_changed_through_the_service_account_api(client):
    made = await make_provider(client, booking_horizon_days=30)
    assert made["booking_horizon_days"] == 30
    changed = await data_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"booking_horizon_days": 365}),
        200,
    )
    assert changed["booking_horizon_days"] == 365
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["booking_horizon_days"] == 365


@pytest.mark.parametrize("value", [0, -1, 3651, 1.5, "many", None])
async def test_a_bad_horizon_is_422(client, value):
    payload = {"name": "Spa", "phone": PROVIDER, "booking_horizon_days": value}
    await detail_of(await client.post("/service-accounts/", json=payload), 422)
    await make_provider(client)
    response = await client.put(
        f"/service-accounts/{PROVIDER}", json={"booking_horizon_days": value}
    )
    await detail_of(response, 422)


async def test_the_openapi_spec_documents_the_horizon(client):
    spec = await (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("ServiceAccountCreate", "ServiceAccountUpdate", "ServiceAccountOut"):
        assert "booking_horizon_days" in schemas[name]["properties"], name
    created = schemas["ServiceAccountCreate"]["properties"]["booking_horizon_days"]
    assert (created["minimum"], created["maximum"], created["default"]) == (1, 3650, 90)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2999-06-01"])
async def test_an_absurd_queue_day_is_422_with_detail(client, day):
    await make_provider(client)
    params = {"service_account_phone": PROVIDER, "day": day}
    detail = await detail_of(await client.get("/appointments/", params=params), 422)
    assert isinstance(detail, str)
    assert "day" in detail


async def test_a_queue_day_past_the_horizon_is_422_and_within_it_200(client):
    await make_provider(client, booking_horizon_days=10)
    params = {"service_account_phone": PROVIDER, "day": day_after(11)}
    detail = await detail_of(await client.get("/appointments/", params=params), 422)
    assert "10 days ahead" in detail
    params["day"] = day_after(10)
    assert await data_of(await client.get("/appointments/", params=params), 200) == []
    params["day"] = today().isoformat()
    assert await data_of(await client.get("/appointments/", params=params), 200) == []


async def test_an_unknown_provider_is_404_whatever_the_day(client):
    params = {"service_account_phone": "+19995550000", "day": "9999-12-31"}
    await detail_of(await client.get("/appointments/", params=params), 404)


async def test_queue_days_are_never_null(client):
    # PostgreSQL's driver stores date.max as 'infinity', which the queue rendered as a
    # null day: such a day is refused at booking, and the furthest allowed one reads back.
    await make_provider(client, booking_horizon_days=3650)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    far = (datetime.now(UTC).date() + timedelta(days=3650)).isoformat()
    await book(client, day=far)
    await book(client, user=BOB, day="9999-12-31", status=422)
    for params in ({}, {"day": far}):
        page = await data_of(
            await client.get(
                "/appointments/", params={"service_account_phone": PROVIDER, **params}
            ),
            200,
        )
        assert [a["day"] for a in page] == [far]


@pytest.mark.parametrize("action", ["complete", "no-show"])
async def test_a_visit_cannot_be_closed_before_its_day(client, action):
    await make_provider(client)
    await make_user(client)
    ahead = await book(client, day=day_after(3))
    detail = await detail_of(await client.put(f"/appointments/{ahead['id']}/{action}"), 400)
    assert day_after(3) in detail
    read = await data_of(await client.get(f"/appointments/{ahead['id']}"), 200)
    assert read["status"] == "active"
    # No penalty was recorded: the next booking carries none.
    assert (await book(client, day=day_after(4)))["penalty"] == 0.0


async def test_a_visit_ahead_can_still_be_canceled(client):
    await make_provider(client)
    await make_user(client)
    ahead = await book(client, day=day_after(3))
    canceled = await data_of(await client.delete(f"/appointments/{ahead['id']}"), 200)
    assert canceled["status"] == "canceled"


async def test_today_is_the_providers_today_for_closing_a_visit(client):
    # At UTC+14 the provider's today is often the UTC tomorrow: a visit booked for it
    # closes when its local day has come, whatever the UTC date.
    await make_provider(client, timezone="Pacific/Kiritimati")
    await make_user(client)
    local_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    booked = await book(client, day=local_today.isoformat())
    done = await data_of(await client.put(f"/appointments/{booked['id']}/no-show"), 200)
    assert (done["status"], done["user_phone"]) == ("no_show", ANN)
