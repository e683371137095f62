"""A provider's country through the admin API: derived at creation, settable, checked."""

from __future__ import annotations

import pytest

from tests.api_helpers import PROVIDER, data_of, detail_of, make_provider


@pytest.mark.parametrize(
    ("timezone", "country"),
    [("America/New_York", "US"), ("Europe/Paris", "FR"), ("Asia/Calcutta", "IN"), ("UTC", "US")],
)
async def test_a_new_provider_gets_its_time_zones_country_else_the_default(
    client, timezone, country
):
    account = await make_provider(client, timezone=timezone)
    assert account["country"] == country
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["country"] == country


async def test_the_default_region_comes_from_the_setting(aiohttp_client, settings):
    from webhooks.app import create_app

    client = await aiohttp_client(
        create_app(settings.model_copy(update={"default_phone_region": "GB"}))
    )
    assert (await make_provider(client, timezone="UTC"))["country"] == "GB"
    assert (await make_provider(client, phone="+12025550180", timezone="Europe/Paris"))[
        "country"
    ] == "FR"


async def test_a_given_country_is_upper_cased_and_kept(client):
    account = await make_provider(client, timezone="America/New_York", country="ca")
    assert account["country"] == "CA"
    updated = await data_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"country": "fr"}), 200
    )
    assert updated["country"] == "FR"
    listed = await data_of(await client.get("/service-accounts/"), 200)
    assert [a["country"] for a in listed] == ["FR"]


@pytest.mark.parametrize("bad", ["ZZ", "USA", "", "u", 12, None])
async def test_an_unknown_country_is_422_with_detail(client, bad):
    if bad is not None:
        response = await client.post(
            "/service-accounts/", json={"name": "S", "phone": PROVIDER, "country": bad}
        )
        detail = await detail_of(response, 422)
        assert detail[0]["loc"] == ["body", "country"]
    await make_provider(client)
    detail = await detail_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"country": bad}), 422
    )
    assert "country" in str(detail)


async def test_a_service_caller_gets_invalid_input_for_an_unknown_country(orm):
    from core.errors import InvalidInput
    from core.services.service_accounts import create_service_account

    with pytest.raises(InvalidInput, match="country"):
        await create_service_account(phone=PROVIDER, name="S", country="ZZ")


async def test_openapi_states_the_phone_rule_and_the_country(client):
    spec = await (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for model, field in (
        ("UserCreate", "phone"),
        ("ServiceAccountCreate", "phone"),
        ("AppointmentCreate", "user_phone"),
        ("AppointmentCreate", "service_account_phone"),
    ):
        phone = schemas[model]["properties"][field]
        assert phone["pattern"] == r"^\+[0-9]{7,17}$", model
        assert "7 to 17" in phone["description"]
        assert "NFKC" in phone["description"]
    for model in ("ServiceAccountCreate", "ServiceAccountUpdate"):
        country = schemas[model]["properties"]["country"]
        assert "ISO 3166 alpha-2" in str(country), model
    assert "country" in schemas["ServiceAccountOut"]["properties"]
