"""Phone-keyed records shared by users and service accounts: create, list, read, update, delete."""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from core.errors import AlreadyExists, NotFound

M = TypeVar("M", bound=Model)


async def create(model: type[M], *, label: str, fields: dict[str, Any]) -> M:
    try:
        return await model.create(**fields)
    except IntegrityError as exc:
        raise AlreadyExists(f"{label} with this phone already exists") from exc


async def listing(model: type[M], *, skip: int, limit: int) -> list[M]:
    return await model.all().order_by("created_at", "id").offset(skip).limit(limit)


async def get(model: type[M], *, label: str, phone: str) -> M:
    record = await model.get_or_none(phone=phone)
    if record is None:
        raise NotFound(f"{label} not found")
    return record


async def update(model: type[M], *, label: str, phone: str, changes: dict[str, Any]) -> M:
    record = await get(model, label=label, phone=phone)
    if changes:
        record.update_from_dict(changes)
        await record.save(update_fields=list(changes))
    return record


async def delete(model: type[M], *, label: str, phone: str) -> None:
    deleted = await model.filter(phone=phone).delete()
    if not deleted:
        raise NotFound(f"{label} not found")
