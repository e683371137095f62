"""One identity per phone: every spelling of a number that arrives reaches the same record."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api_helpers import ANN, PROVIDER, book, data_of, day_after, detail_of, make_provider

SPELLINGS = [
    "+1 415 555 0101\n",
    "+１４１５５５５０１０１",
    "＋1 (415) 555－0101",
    "\t+1\u00a0415\u2009555 0101\r\n",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_user_created_with_any_spelling_is_stored_canonical_and_read_back(client, spelling):
    created = await data_of(
        await client.post("/users/", json={"name": "Ann Lee", "phone": spelling}), 201
    )
    assert created["phone"] == ANN
    assert (await data_of(await client.get(f"/users/{ANN}"), 200))["name"] == "Ann Lee"
    # The same spelling in the path and in the query reaches the same user.
    assert (await data_of(await client.get(f"/users/{quote(spelling)}"), 200))["phone"] == ANN


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_second_spelling_of_a_phone_is_the_same_user(client, spelling):
    await data_of(await client.post("/users/", json={"name": "Ann Lee", "phone": ANN}), 201)
    response = await client.post("/users/", json={"name": "Ann Again", "phone": spelling})
    assert "already exists" in await detail_of(response, 400)


async def test_a_second_spelling_does_not_get_past_the_one_per_day_rule(client):
    await make_provider(client)
    await data_of(await client.post("/users/", json={"name": "Ann Lee", "phone": ANN}), 201)
    await book(client, day=day_after(1))
    detail = await book(client, user="+１４１５５５５０１０１", day=day_after(1), status=400)
    assert "already" in detail.lower()


async def test_the_queue_query_reads_a_phone_spelled_in_fullwidth_digits(client):
    await make_provider(client)
    await data_of(await client.post("/users/", json={"name": "Ann Lee", "phone": ANN}), 201)
    booked = await book(client, day=day_after(1))
    provider = quote("＋" + "".join(chr(ord(c) + 0xFEE0) for c in PROVIDER[1:]))
    user = quote("+1 415 555 0101\n")
    response = await client.get(
        f"/appointments/?service_account_phone={provider}&user_phone={user}&day={day_after(1)}"
    )
    assert [a["id"] for a in await data_of(response, 200)] == [booked["id"]]


@pytest.mark.parametrize("spelling", ["+١٤١٥٥٥٥٠١٠١", "+14155550101\n+14155550102"])
async def test_digits_of_other_scripts_and_two_numbers_are_refused_with_422(client, spelling):
    response = await client.post("/users/", json={"name": "Ann Lee", "phone": spelling})
    await detail_of(response, 422)
