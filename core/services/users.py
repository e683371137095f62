"""Use cases for customers (users)."""

from __future__ import annotations

from typing import Any

from core.errors import AlreadyExists, NotFound
from core.models import User
from core.services import erasure, phone_records

LABEL = "User"


async def create_user(*, name: str, phone: str, email: str | None = None) -> User:
    return await phone_records.create(
        User, label=LABEL, fields={"name": name, "phone": phone, "email": email}
    )


async def register(*, phone: str, name: str) -> User:
    """The user with `phone`, created with `name` if there is none. A user who exists
    keeps their name: a channel that knows one offers it, it does not rename anyone."""
    user = await find_user(phone=phone)
    if user is not None:
        return user
    try:
        return await create_user(name=name, phone=phone)
    except AlreadyExists:
        # Registered meanwhile (another channel, the admin API).
        return await get_user(phone=phone)


async def list_users(*, skip: int = 0, limit: int = 100) -> list[User]:
    return await phone_records.listing(User, skip=skip, limit=limit)


async def get_user(*, phone: str) -> User:
    return await phone_records.get(User, label=LABEL, phone=phone)


async def find_user(*, phone: str) -> User | None:
    return await User.get_or_none(phone=phone)


async def update_user(*, phone: str, changes: dict[str, Any]) -> User:
    return await phone_records.update(User, label=LABEL, phone=phone, changes=changes)


async def delete_user(*, phone: str) -> None:
    """Erase the person with `phone` everywhere (core.services.erasure); NotFound when
    nothing at all was held about them."""
    erased = await erasure.erase_person(phone=phone)
    if not any(erased.values()):
        raise NotFound(f"{LABEL} not found")
