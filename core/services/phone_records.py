"""Phone-keyed records shared by users and service accounts: create, list, read, update, delete."""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from core.errors import AlreadyExists, NotFound

M = TypeVar("M", bound=Model)


def _clashed(model: type[Model], exc: IntegrityError) -> str | None:
    """The unique field a uniqueness error is about, read from what the database said:
    SQLite names `table.column`, PostgreSQL the constraint `table_column_key` and, in
    its detail, `Key (column)=(...)`."""
    cause = exc.args[0] if exc.args else None
    said = " ".join(
        str(part)
        for part in (exc, getattr(cause, "constraint_name", None), getattr(cause, "detail", None))
        if part
    )
    table = model._meta.db_table
    for name, field in model._meta.fields_map.items():
        if not field.unique or field.pk:
            continue
        column = field.source_field or name
        if any(
            mark in said for mark in (f"{table}.{column}", f"{table}_{column}_key", f"({column})")
        ):
            return name
    return None


def _already_exists(
    model: type[Model], label: str, values: dict[str, Any], exc: IntegrityError
) -> AlreadyExists:
    field = _clashed(model, exc)
    if field == "phone":
        return AlreadyExists(f"{label} with this phone already exists")
    if field is not None and field in values:
        return AlreadyExists(f"{label} with {field} {values[field]} already exists")
    return AlreadyExists(f"{label} with these details already exists")


async def create(model: type[M], *, label: str, fields: dict[str, Any]) -> M:
    try:
        return await model.create(**fields)
    except IntegrityError as exc:
        raise _already_exists(model, label, fields, exc) from exc


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
        try:
            await record.save(update_fields=list(changes))
        except IntegrityError as exc:
            raise _already_exists(model, label, changes, exc) from exc
    return record


async def delete(model: type[M], *, label: str, phone: str) -> None:
    deleted = await model.filter(phone=phone).delete()
    if not deleted:
        raise NotFound(f"{label} not found")
