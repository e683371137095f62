"""A duplicate is refused naming the field that clashed."""

from __future__ import annotations

from tests.api_helpers import ANN, PROVIDER, detail_of, make_provider, make_user

OTHER = "+12025550111"


async def test_a_clash_on_code_says_code_not_phone(client):
    await make_provider(client, code="SPA")
    response = await client.post(
        "/service-accounts/", json={"name": "Other", "phone": OTHER, "code": "spa"}
    )
    assert await detail_of(response, 400) == "Service account with code SPA already exists"


async def test_a_clash_on_phone_says_phone(client):
    await make_provider(client, code="SPA")
    response = await client.post(
        "/service-accounts/", json={"name": "Other", "phone": PROVIDER, "code": "GDN"}
    )
    assert await detail_of(response, 400) == "Service account with this phone already exists"
    await make_user(client)
    response = await client.post("/users/", json={"name": "Again", "phone": ANN})
    assert await detail_of(response, 400) == "User with this phone already exists"


async def test_an_update_to_a_taken_code_says_code(client):
    await make_provider(client, code="SPA")
    await make_provider(client, phone=OTHER, code="GDN")
    response = await client.put(f"/service-accounts/{OTHER}", json={"code": "Spa"})
    assert await detail_of(response, 400) == "Service account with code SPA already exists"
    # Nothing changed.
    response = await client.get(f"/service-accounts/{OTHER}")
    assert (await response.json())["data"]["code"] == "GDN"
