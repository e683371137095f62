"""A provider's language through the admin API: English unless told, any language with a
catalog, and a 400 with a detail for one without."""

from __future__ import annotations

import pytest

from tests.api_helpers import PROVIDER, data_of, detail_of, make_provider


async def test_a_provider_speaks_english_until_given_another_language(client):
    made = await make_provider(client)
    assert made["language"] == "en"
    changed = await data_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"language": "es"}), 200
    )
    assert changed["language"] == "es"
    read = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert read["language"] == "es"


async def test_a_provider_can_be_created_in_spanish(client):
    assert (await make_provider(client, language="es"))["language"] == "es"


@pytest.mark.parametrize("language", ["xx", "EN", "español", None])
async def test_a_language_without_a_catalog_is_refused_with_a_detail(client, language):
    payload = {"name": "Spa", "phone": PROVIDER, "language": language}
    if language is not None:
        detail = await detail_of(await client.post("/service-accounts/", json=payload), 400)
        assert "language must be one of: en, es" in str(detail)
    await make_provider(client)
    detail = await detail_of(
        await client.put(f"/service-accounts/{PROVIDER}", json={"language": language}), 400
    )
    assert "language must be one of: en, es" in str(detail)


async def test_the_language_field_is_in_the_openapi_document(client):
    schemas = (await (await client.get("/openapi.json")).json())["components"]["schemas"]
    for name in ("ServiceAccountCreate", "ServiceAccountUpdate", "ServiceAccountOut"):
        assert "language" in schemas[name]["properties"], name
