"""Small helpers for API tests: the envelope, and making records through the API itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

PROVIDER = "+12025550179"
ANN = "+14155550101"
BOB = "+14155550102"


def today() -> date:
    return datetime.now(UTC).date()


def day_after(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


async def data_of(response: Any, status: int) -> Any:
    body = await response.json()
    assert response.status == status, body
    assert body["success"] is True
    return body["data"]


async def detail_of(response: Any, status: int) -> Any:
    body = await response.json()
    assert response.status == status, body
    assert "detail" in body
    return body["detail"]


async def make_provider(client: Any, phone: str = PROVIDER, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Serene Spa", "phone": phone, **fields}
    return await data_of(await client.post("/service-accounts/", json=payload), 201)


async def make_user(client: Any, phone: str = ANN, name: str = "Ann Lee") -> dict[str, Any]:
    return await data_of(await client.post("/users/", json={"name": name, "phone": phone}), 201)


async def book(
    client: Any,
    user: str = ANN,
    provider: str = PROVIDER,
    day: str | None = None,
    status: int = 201,
    **extra: Any,
) -> Any:
    payload = {
        "user_phone": user,
        "service_account_phone": provider,
        "appointment_date": day or day_after(1),
        **extra,
    }
    response = await client.post("/appointments/", json=payload)
    if status == 201:
        return await data_of(response, 201)
    return await detail_of(response, status)
