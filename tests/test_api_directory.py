"""Users and service accounts through the admin API."""

from __future__ import annotations

import pytest

from tests.api_helpers import ANN, BOB, PROVIDER, book, data_of, detail_of, make_provider, make_user


async def test_a_user_is_created_with_a_normalised_phone(client):
    response = await client.post(
        "/users/",
        json={"name": "Ann Lee", "phone": "+1 (415) 555-0101", "email": "ann@example.com"},
    )
    body = await response.json()
    assert response.status == 201
    assert body["message"] == "User created successfully"
    assert body["data"]["phone"] == ANN
    assert set(body["data"]) == {"id", "name", "phone", "email", "created_at"}


async def test_a_duplicate_phone_is_refused_with_already_exists(client):
    await make_user(client)
    detail = await detail_of(await client.post("/users/", json={"name": "X", "phone": ANN}), 400)
    assert "already exists" in detail


async def test_users_are_listed_in_creation_order_with_skip_and_limit(client):
    for i in range(5):
        await make_user(client, phone=f"+1415555020{i}", name=f"U{i}")
    page = await data_of(await client.get("/users/?skip=1&limit=2"), 200)
    assert [u["name"] for u in page] == ["U1", "U2"]
    everyone = await data_of(await client.get("/users"), 200)
    assert [u["name"] for u in everyone] == [f"U{i}" for i in range(5)]


async def test_a_user_read_by_phone_carries_their_appointments(client):
    await make_provider(client)
    await make_user(client)
    await book(client)
    user = await data_of(await client.get("/users/+1 415 555 0101"), 200)
    assert [a["service_account_phone"] for a in user["appointments"]] == [PROVIDER]


async def test_an_update_changes_only_the_given_fields(client):
    await make_user(client)
    await data_of(await client.put(f"/users/{ANN}", json={"email": "a@example.com"}), 200)
    user = await data_of(await client.get(f"/users/{ANN}"), 200)
    assert (user["name"], user["email"]) == ("Ann Lee", "a@example.com")


async def test_the_phone_cannot_be_changed(client):
    await make_user(client)
    detail = await detail_of(await client.put(f"/users/{ANN}", json={"phone": BOB}), 422)
    assert "Phone number cannot be changed" in str(detail)


async def test_a_required_field_cannot_be_set_to_null(client):
    await make_user(client)
    await detail_of(await client.put(f"/users/{ANN}", json={"name": None}), 422)


async def test_delete_answers_204_without_a_body_and_then_404(client):
    await make_user(client)
    response = await client.delete(f"/users/{ANN}/")
    assert response.status == 204
    assert await response.read() == b""
    assert "not found" in (await detail_of(await client.get(f"/users/{ANN}"), 404)).lower()
    await detail_of(await client.delete(f"/users/{ANN}"), 404)


async def test_a_service_account_has_the_scoring_defaults(client):
    account = await make_provider(client)
    assert account["enable_cancellation_scoring"] is True
    assert (account["cancellation_weight"], account["no_show_weight"]) == (1.0, 2.0)
    assert (account["timezone"], account["penalty_half_life_days"]) == ("UTC", 30.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"cancellation_weight": -1},
        {"no_show_weight": -0.5},
        {"penalty_half_life_days": 0},
        {"timezone": "Mars/Olympus"},
        {"email": "not-an-email"},
        {"code": "no spaces!"},
    ],
)
async def test_service_account_rules_are_checked_on_create_and_update(client, bad):
    await detail_of(
        await client.post("/service-accounts/", json={"name": "S", "phone": PROVIDER, **bad}), 422
    )
    await make_provider(client)
    await detail_of(await client.put(f"/service-accounts/{PROVIDER}", json=bad), 422)


async def test_a_service_account_code_is_stored_upper_case_and_unique(client):
    account = await make_provider(client, code="spa")
    assert account["code"] == "SPA"
    response = await client.post(
        "/service-accounts/", json={"name": "Other", "phone": "+12025550111", "code": "SPA"}
    )
    assert "already exists" in await detail_of(response, 400)


async def test_a_service_account_read_carries_its_appointments(client):
    await make_provider(client)
    await make_user(client)
    await book(client)
    account = await data_of(await client.get(f"/service-accounts/{PROVIDER}"), 200)
    assert [a["user_phone"] for a in account["appointments"]] == [ANN]
    response = await client.delete(f"/service-accounts/{PROVIDER}")
    assert response.status == 204
