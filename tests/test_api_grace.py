"""Grace settings through the admin API: grace_minutes (0 to 240, fractions allowed,
default 15) and auto_call_next (default false) on create, update and read, refused with
a 4xx and a detail past their bounds, and documented in the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.api_helpers import PROVIDER, data_of, make_provider


async def test_a_provider_has_fifteen_minutes_of_grace_and_no_automatic_call_by_default(client):
    made = await make_provider(client)
    assert (made["grace_minutes"], made["auto_call_next"]) == (15.0, False)
    changed = await data_of(
        await client.put(
            f"/service-accounts/{PROVIDER}", json={"grace_minutes": 7.5, "auto_call_next": True}
        ),
        200,
    )
    assert (changed["grace_minutes"], changed["auto_call_next"]) == (7.5, True)
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert (read["grace_minutes"], read["auto_call_next"]) == (7.5, True)
    off = await data_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"grace_minutes": 0}), 200
    )
    assert off["grace_minutes"] == 0


async def test_a_provider_can_be_created_with_its_grace_settings(client):
    made = await make_provider(client, grace_minutes=0.1, auto_call_next=True)
    assert (made["grace_minutes"], made["auto_call_next"]) == (0.1, True)


@pytest.mark.parametrize(
    "fields",
    [
        {"grace_minutes": -1},
        {"grace_minutes": 240.5},
        {"grace_minutes": None},
        {"grace_minutes": "soon"},
        {"grace_minutes": "NaN"},
        {"auto_call_next": None},
        {"auto_call_next": "maybe"},
    ],
)
async def test_a_bad_grace_setting_is_refused_with_a_detail_on_create_and_update(client, fields):
    payload = {"name": "Spa", "phone": PROVIDER, **fields}
    response = await client.post("/service-accounts/", json=payload)
    assert 400 <= response.status < 500
    assert "detail" in await response.json()
    await make_provider(client)
    response = await client.put(f"/service-accounts/{PROVIDER}", json=fields)
    assert 400 <= response.status < 500
    assert "detail" in await response.json()
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert (read["grace_minutes"], read["auto_call_next"]) == (15.0, False)


async def test_the_grace_fields_are_in_the_openapi_document(client):
    schemas = (await (await client.get("/openapi.json")).json())["components"]["schemas"]
    for name in ("ServiceAccountCreate", "ServiceAccountUpdate", "ServiceAccountOut"):
        for field in ("grace_minutes", "auto_call_next"):
            assert field in schemas[name]["properties"], (name, field)
    created = schemas["ServiceAccountCreate"]["properties"]["grace_minutes"]
    assert (created["minimum"], created["maximum"], created["default"]) == (0, 240, 15)
