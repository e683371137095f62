"""A person's or a provider's appointments beyond the most recent: the detail read's
limit and total, and the paginated history routes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.models import Appointment, ServiceAccount, Status, User
from tests.api_helpers import ANN, BOB, PROVIDER, book, data_of, detail_of, make_provider, make_user
from webhooks.schemas import AppointmentOut

FIRST_DAY = date(2025, 1, 1)
# A status for each past appointment, in turn.
STATUSES = (Status.COMPLETED, Status.CANCELED, Status.NO_SHOW)
ROUTES = {"user": f"/users/{ANN}", "provider": f"/service-accounts/{PROVIDER}"}


async def _past(count: int) -> list[int]:
    """`count` past appointments of Ann with the provider, one a day from FIRST_DAY,
    their statuses in turn; their ids in day order."""
    ann = await User.get(phone=ANN)
    account = await ServiceAccount.get(phone=PROVIDER)
    rows = []
    for n in range(count):
        day = FIRST_DAY + timedelta(days=n)
        moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        rows.append(
            Appointment(
                user=ann,
                service_account=account,
                appointment_date=moment,
                day=day,
                status=STATUSES[n % len(STATUSES)],
            )
        )
    await Appointment.bulk_create(rows)
    return [a.id for a in await Appointment.filter(user=ann).order_by("day", "id")]


async def _ids(response: Any) -> list[int]:
    return [a["id"] for a in await data_of(response, 200)]


@pytest.fixture
async def history(client: Any) -> list[int]:
    await make_provider(client)
    await make_user(client)
    return await _past(130)


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_a_detail_read_carries_the_hundred_most_recent_appointments_and_the_total(
    client, history, whose
):
    found = await data_of(await client.get(ROUTES[whose]), 200)
    assert [a["id"] for a in found["appointments"]] == history[-100:]
    assert found["appointments_total"] == 130
    assert set(found["appointments"][0]) == set(AppointmentOut.model_fields)


@pytest.mark.parametrize("whose", ["user", "provider"])
@pytest.mark.parametrize("limit", [1, 7, 1000])
async def test_appointments_limit_sets_how_many_recent_appointments_a_detail_carries(
    client, history, whose, limit
):
    found = await data_of(await client.get(f"{ROUTES[whose]}?appointments_limit={limit}"), 200)
    assert [a["id"] for a in found["appointments"]] == history[-limit:]
    assert found["appointments_total"] == 130


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_a_detail_under_the_limit_carries_every_appointment_and_counts_them(client, whose):
    await make_provider(client)
    await make_user(client)
    booked = await book(client)
    found = await data_of(await client.get(ROUTES[whose]), 200)
    assert [a["id"] for a in found["appointments"]] == [booked["id"]]
    assert found["appointments_total"] == 1


async def test_a_provider_detail_lists_each_day_in_line_order(client):
    await make_provider(client)
    await make_user(client)
    await make_user(client, phone=BOB, name="Bob Stone")
    ann = await book(client)
    bob = await book(client, user=BOB)
    # Ann's spot moved behind Bob's, as LATE moves one.
    later = datetime.now(UTC) + timedelta(hours=1)
    await Appointment.filter(id=ann["id"]).update(rank_at=later)
    found = await data_of(await client.get(f"{ROUTES['provider']}?appointments_limit=1"), 200)
    assert [a["id"] for a in found["appointments"]] == [ann["id"]]
    found = await data_of(await client.get(ROUTES["provider"]), 200)
    assert [a["id"] for a in found["appointments"]] == [bob["id"], ann["id"]]


@pytest.mark.parametrize("whose", ["user", "provider"])
@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x"])
async def test_a_bad_appointments_limit_is_refused_with_a_detail(client, history, whose, limit):
    detail = await detail_of(await client.get(f"{ROUTES[whose]}?appointments_limit={limit}"), 422)
    assert detail[0]["loc"] == ["query", "appointments_limit"]


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_the_history_pages_through_every_appointment_in_the_detail_order(
    client, history, whose
):
    route = f"{ROUTES[whose]}/appointments"
    assert await _ids(await client.get(route)) == history[:100]
    pages = [await _ids(await client.get(f"{route}?skip={s}&limit=50")) for s in (0, 50, 100)]
    assert [len(page) for page in pages] == [50, 50, 30]
    assert [i for page in pages for i in page] == history
    assert await _ids(await client.get(f"{route}?skip=130")) == []


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_the_history_keeps_the_days_from_to_both_included(client, history, whose):
    days = {"from": "2025-01-11", "to": "2025-01-20"}
    assert await _ids(await client.get(f"{ROUTES[whose]}/appointments", params=days)) == (
        history[10:20]
    )
    since = await _ids(await client.get(f"{ROUTES[whose]}/appointments?from=2025-05-01"))
    assert since == history[120:]
    until = await _ids(await client.get(f"{ROUTES[whose]}/appointments?to=2025-01-03"))
    assert until == history[:3]


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_the_history_keeps_one_status(client, history, whose):
    route = f"{ROUTES[whose]}/appointments"
    found = await data_of(await client.get(f"{route}?status=no_show&limit=1000"), 200)
    assert [a["id"] for a in found] == history[2::3]
    assert {a["status"] for a in found} == {"no_show"}
    assert await _ids(await client.get(f"{route}?status=active")) == []


async def test_the_history_combines_days_status_and_page(client, history):
    params = {"from": "2025-01-01", "to": "2025-01-31", "status": "completed", "skip": 2, "limit": 3}
    found = await _ids(await client.get(f"{ROUTES['provider']}/appointments", params=params))
    assert found == history[0:31:3][2:5]


@pytest.mark.parametrize("whose", ["user", "provider"])
async def test_a_history_from_after_to_is_refused(client, history, whose):
    days = {"from": "2025-02-01", "to": "2025-01-31"}
    response = await client.get(f"{ROUTES[whose]}/appointments", params=days)
    assert "from must be on or before to" in await detail_of(response, 400)


@pytest.mark.parametrize("whose", ["user", "provider"])
@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "skip=-1",
        "skip=x",
        "from=2025-13-01",
        "to=01/02/2025",
        "status=waiting",
    ],
)
async def test_bad_history_parameters_are_refused_with_a_detail(client, history, whose, query):
    detail = await detail_of(await client.get(f"{ROUTES[whose]}/appointments?{query}"), 422)
    assert detail[0]["loc"][0] == "query"


@pytest.mark.parametrize("route", ["/users/+19995550000", "/service-accounts/+19995550000"])
async def test_the_history_of_an_unknown_phone_is_404(client, route):
    detail = await detail_of(await client.get(f"{route}/appointments"), 404)
    assert "not found" in detail.lower()


async def test_the_history_routes_are_in_the_openapi_document(client):
    spec = await (await client.get("/openapi.json")).json()
    for path in ("/users/{phone}/appointments", "/service-accounts/{phone}/appointments"):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert {"phone", "from", "to", "status", "skip", "limit"} <= names
    detail = spec["paths"]["/users/{phone}"]["get"]["parameters"]
    assert "appointments_limit" in {p["name"] for p in detail}
