"""Booking, the ranked queue and status changes through the admin API."""

from __future__ import annotations

import asyncio

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

CAROL = "+14155550103"


async def queue(client, day=None, **params):
    query = {"service_account_phone": PROVIDER, **params}
    if day:
        query["day"] = day
    return await data_of(await client.get("/appointments/", params=query), 200)


async def test_a_booking_answers_201_with_the_appointment(client):
    await make_provider(client)
    await make_user(client)
    response = await client.post(
        "/appointments/",
        json={
            "user_phone": ANN,
            "service_account_phone": PROVIDER,
            "appointment_date": f"{day_after(1)}T10:30:00",
            "notes": "back pain",
        },
    )
    body = await response.json()
    assert response.status == 201
    assert body["message"] == "Appointment created successfully"
    data = body["data"]
    assert (data["status"], data["penalty"], data["duration_minutes"]) == ("active", 0.0, 30)
    assert data["appointment_date"].startswith(f"{day_after(1)}T10:30:00")
    assert (data["user_phone"], data["service_account_phone"]) == (ANN, PROVIDER)


async def test_the_day_follows_the_providers_time_zone(client):
    await make_provider(client, timezone="Pacific/Auckland")
    await make_user(client)
    # 20:00 UTC is the next morning in Auckland.
    booked = await book(client, day=f"{day_after(1)}T20:00:00+00:00")
    assert booked["day"] == day_after(2)


async def test_booking_and_queue_items_carry_exactly_the_documented_fields(client):
    from webhooks.schemas import AppointmentOut

    await make_provider(client)
    await make_user(client)
    booked = await book(client)
    [queued] = await queue(client, day=day_after(1))
    for item in (booked, queued):
        assert set(item) == set(AppointmentOut.model_fields)
        assert AppointmentOut.model_validate(item).model_dump(mode="json") == item


async def test_a_second_active_appointment_on_the_same_day_is_refused(client):
    await make_provider(client)
    await make_provider(client, phone="+12025550111")
    await make_user(client)
    await book(client)
    detail = await book(client, provider="+12025550111", status=400)
    assert "already exists" in detail


async def test_a_canceled_appointment_frees_the_day(client):
    await make_provider(client)
    await make_user(client)
    first = await book(client)
    await data_of(await client.delete(f"/appointments/{first['id']}"), 200)
    await book(client)


async def test_a_day_before_today_is_refused(client):
    await make_provider(client)
    await make_user(client)
    await book(client, day=day_after(-1), status=422)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_minutes", 0),
        ("duration_minutes", 1441),
        ("appointment_date", "next tuesday"),
        ("appointment_date", "2026-02-30"),
        ("user_phone", "12345"),
    ],
)
async def test_invalid_booking_fields_are_422(client, field, value):
    await make_provider(client)
    await make_user(client)
    await book(client, status=422, **{field: value})


async def test_booking_for_an_unknown_user_or_provider_is_404(client):
    await make_provider(client)
    assert "not found" in (await book(client, status=404)).lower()
    await make_user(client)
    assert "not found" in (await book(client, provider="+19995550000", status=404)).lower()


async def test_the_queue_ranks_by_penalty_then_booking_time(client):
    await make_provider(client)
    for phone, name in ((ANN, "Ann"), (BOB, "Bob"), (CAROL, "Carol")):
        await make_user(client, phone=phone, name=name)
    # Ann cancels once today: her next booking carries a penalty of 1.
    first = await book(client, user=ANN, day=day_after(0))
    await data_of(await client.delete(f"/appointments/{first['id']}"), 200)
    ann = await book(client, user=ANN, day=day_after(1))
    bob = await book(client, user=BOB, day=day_after(1))
    carol = await book(client, user=CAROL, day=day_after(1))
    assert ann["penalty"] == pytest.approx(1.0, abs=1e-3)
    ranked = await queue(client, day=day_after(1))
    assert [a["id"] for a in ranked] == [bob["id"], carol["id"], ann["id"]]
    assert all(a["status"] == "active" for a in ranked)
    page = await queue(client, day=day_after(1), skip=1, limit=1)
    assert [a["id"] for a in page] == [carol["id"]]


async def test_the_queue_without_a_day_shows_today_and_later_only_active(client):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob")
    today_appt = await book(client, user=ANN, day=day_after(0))
    later = await book(client, user=BOB, day=day_after(3))
    gone = await book(client, user=ANN, day=day_after(2))
    await data_of(await client.delete(f"/appointments/{gone['id']}"), 200)
    assert [a["id"] for a in await queue(client)] == [today_appt["id"], later["id"]]
    assert [a["id"] for a in await queue(client, user_phone=BOB)] == [later["id"]]


async def test_the_readme_query_with_an_unencoded_plus_works(client):
    await make_provider(client)
    await make_user(client)
    booked = await book(client)
    response = await client.get(
        f"/appointments/?service_account_phone=+12025550179&day={day_after(1)}"
    )
    assert [a["id"] for a in await data_of(response, 200)] == [booked["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "service_account_phone=nope",
        f"service_account_phone={PROVIDER}&day=2026-13-01",
        f"service_account_phone={PROVIDER}&limit=0",
        f"service_account_phone={PROVIDER}&limit=1001",
        f"service_account_phone={PROVIDER}&skip=-1",
        f"service_account_phone={PROVIDER}&skip=x",
    ],
)
async def test_bad_queue_parameters_are_422(client, query):
    await make_provider(client)
    await detail_of(await client.get(f"/appointments/?{query}"), 422)


@pytest.mark.parametrize("day", [None, "2030-01-01"])
async def test_the_queue_of_an_unknown_provider_is_404(client, day):
    params = {"service_account_phone": "+19995550000", **({"day": day} if day else {})}
    detail = await detail_of(await client.get("/appointments/", params=params), 404)
    assert "not found" in detail.lower()


async def test_an_appointment_read_nests_user_and_service_account(client):
    await make_provider(client)
    await make_user(client)
    booked = await book(client)
    data = await data_of(await client.get(f"/appointments/{booked['id']}"), 200)
    assert data["user"]["phone"] == ANN
    assert data["service_account"]["phone"] == PROVIDER


@pytest.mark.parametrize(
    "path", ["/appointments/abc", "/appointments/0", "/appointments/99999999999"]
)
async def test_a_bad_id_is_422(client, path):
    await detail_of(await client.get(path), 422)


async def test_an_unknown_id_is_404(client):
    assert "not found" in (await detail_of(await client.get("/appointments/12345"), 404)).lower()
    await detail_of(await client.put("/appointments/12345/complete"), 404)


@pytest.mark.parametrize(
    ("first", "then"),
    [("complete", "no-show"), ("no-show", "complete"), ("complete", "complete")],
)
async def test_only_active_appointments_change_status(client, first, then):
    await make_provider(client)
    await make_user(client)
    booked = await book(client, day=day_after(0))
    await data_of(await client.put(f"/appointments/{booked['id']}/{first}"), 200)
    await detail_of(await client.put(f"/appointments/{booked['id']}/{then}"), 400)
    await detail_of(await client.delete(f"/appointments/{booked['id']}"), 400)


async def test_no_shows_weigh_by_the_providers_weight_and_stay_with_that_provider(client):
    await make_provider(client, no_show_weight=3.0)
    other = "+12025550111"
    await make_provider(client, phone=other)
    await make_user(client)
    missed = await book(client, day=day_after(0))
    marked = await data_of(await client.put(f"/appointments/{missed['id']}/no-show"), 200)
    assert marked["status"] == "no_show"
    again = await book(client, day=day_after(1))
    assert again["penalty"] == pytest.approx(3.0, abs=1e-3)
    elsewhere = await book(client, provider=other, day=day_after(2))
    assert elsewhere["penalty"] == 0.0


async def test_a_provider_with_scoring_disabled_ranks_everyone_at_zero(client):
    await make_provider(client, enable_cancellation_scoring=False)
    await make_user(client)
    first = await book(client, day=day_after(0))
    await data_of(await client.delete(f"/appointments/{first['id']}"), 200)
    assert (await book(client, day=day_after(1)))["penalty"] == 0.0


async def test_twelve_simultaneous_bookings_for_one_day_give_one_201(client):
    providers = [f"+120255501{i:02d}" for i in range(12)]
    for phone in providers:
        await make_provider(client, phone=phone)
    await make_user(client)
    payloads = [
        {"user_phone": ANN, "service_account_phone": p, "appointment_date": day_after(1)}
        for p in providers
    ]
    responses = await asyncio.gather(*(client.post("/appointments/", json=p) for p in payloads))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [400] * 11
    user = await data_of(await client.get(f"/users/{ANN}"), 200)
    assert len([a for a in user["appointments"] if a["status"] == "active"]) == 1


async def test_racing_status_changes_change_the_appointment_once(client):
    await make_provider(client)
    await make_user(client)
    booked = await book(client, day=day_after(0))
    paths = [f"/appointments/{booked['id']}/complete", f"/appointments/{booked['id']}/no-show"] * 3
    responses = await asyncio.gather(*(client.put(p) for p in paths))
    assert sorted(r.status for r in responses) == [200] + [400] * 5
    # Whatever won, the penalty recorded at most one event.
    again = await book(client, day=day_after(1))
    assert again["penalty"] in (0.0, pytest.approx(2.0, abs=1e-3))


async def test_concurrent_cancellations_of_one_user_all_count(client):
    await make_provider(client)
    await make_user(client)
    booked = [await book(client, day=day_after(d)) for d in range(4)]
    responses = await asyncio.gather(*(client.delete(f"/appointments/{b['id']}") for b in booked))
    assert [r.status for r in responses] == [200] * 4
    again = await book(client, day=day_after(5))
    assert again["penalty"] == pytest.approx(4.0, abs=1e-3)


async def test_today_is_accepted_as_a_bare_date(client):
    await make_provider(client)
    await make_user(client)
    assert (await book(client, day=today().isoformat()))["day"] == today().isoformat()
