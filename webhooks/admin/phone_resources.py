"""A resource of phone-keyed records: the five endpoints (create, list, read, update,
delete) that /users/ and /service-accounts/ share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel
from tortoise.models import Model

from core.models import Status
from core.services import appointment_views
from webhooks.admin import idempotent
from webhooks.admin.idempotent import scope_of
from webhooks.admin.routing import Operation
from webhooks.responses import envelope
from webhooks.schemas import (
    AppointmentOut,
    DetailQuery,
    Envelope,
    HistoryQuery,
    Page,
    PartialUpdate,
    PhonePath,
)
from webhooks.validation import body_of, path_of, query_of

R = TypeVar("R", bound=Model)


@dataclass(frozen=True)
class PhoneResource(Generic[R]):
    """What differs between /users/ and /service-accounts/: names, models, services."""

    path: str
    noun: str
    plural: str
    tag: str
    create_body: type[BaseModel]
    update_body: type[PartialUpdate]
    out: type[BaseModel]
    detail: type[BaseModel]
    create: Callable[..., Awaitable[R]]
    listing: Callable[..., Awaitable[list[R]]]
    get: Callable[..., Awaitable[R]]
    update: Callable[..., Awaitable[R]]
    delete: Callable[..., Awaitable[None]]
    # Whose appointments a record's are (its id and their order).
    whose: Callable[[R], appointment_views.Whose]
    # What the create use case takes from the server's settings besides the body.
    create_options: Callable[[web.Request], dict[str, Any]] = lambda request: {}

    def out_of(self, record: R) -> BaseModel:
        return self.out.model_validate(record, from_attributes=True)

    def operations(self) -> list[Operation]:
        create_scope = scope_of("POST", self.path)

        async def create(request: web.Request) -> web.Response:
            body = await body_of(request, self.create_body)

            async def created() -> web.Response:
                record = await self.create(**body.model_dump(), **self.create_options(request))
                return envelope(
                    f"{self.noun} created successfully", self.out_of(record), status=201
                )

            return await idempotent.respond(request, create_scope, created)

        async def listing(request: web.Request) -> web.Response:
            page = query_of(request, Page)
            found = await self.listing(skip=page.skip, limit=page.limit)
            return envelope(
                f"{self.plural} retrieved successfully", [self.out_of(r) for r in found]
            )

        async def read(request: web.Request) -> web.Response:
            phone = path_of(request, PhonePath).phone
            limit = query_of(request, DetailQuery).appointments_limit
            record = await self.get(phone=phone)
            recent = await appointment_views.recent(self.whose(record), limit=limit)
            # The views carry AppointmentOut's fields and serialise as they are.
            detail: dict[str, Any] = {
                **self.out_of(record).model_dump(),
                "appointments": recent.appointments,
                "appointments_total": recent.total,
            }
            return envelope(f"{self.noun} retrieved successfully", detail)

        async def history(request: web.Request) -> web.Response:
            phone = path_of(request, PhonePath).phone
            query = query_of(request, HistoryQuery)
            record = await self.get(phone=phone)
            selection = appointment_views.HistorySelection(
                start=query.start,
                end=query.end,
                status=None if query.status is None else Status(query.status),
                skip=query.skip,
                limit=query.limit,
            )
            page = await appointment_views.history(self.whose(record), selection)
            return envelope("Appointments retrieved successfully", page)

        async def update(request: web.Request) -> web.Response:
            phone = path_of(request, PhonePath).phone
            body = await body_of(request, self.update_body)
            record = await self.update(phone=phone, changes=body.changes())
            return envelope(f"{self.noun} updated successfully", self.out_of(record))

        async def delete(request: web.Request) -> web.Response:
            await self.delete(phone=path_of(request, PhonePath).phone)
            return web.Response(status=204)

        item = f"{self.path}{{phone}}"
        noun = self.noun.lower()
        one, many, detail = (
            enveloped(self.out),
            enveloped(self.out, many=True),
            enveloped(self.detail),
        )
        return [
            Operation(
                "POST",
                self.path,
                create,
                f"Create a {noun}",
                self.tag,
                {201: one},
                body=self.create_body,
                errors=(400, 409, 422),
                idempotent=True,
            ),
            Operation(
                "GET",
                self.path,
                listing,
                f"List {self.plural.lower()} in creation order",
                self.tag,
                {200: many},
                query=Page,
            ),
            Operation(
                "GET",
                item,
                read,
                f"Read a {noun} with its most recent appointments",
                self.tag,
                {200: detail},
                query=DetailQuery,
                path_params=PhonePath,
                errors=(404, 422),
            ),
            Operation(
                "GET",
                f"{item}/appointments",
                history,
                f"A page of a {noun}'s appointments, soonest day first",
                self.tag,
                {200: Envelope[list[AppointmentOut]]},
                query=HistoryQuery,
                path_params=PhonePath,
                errors=(400, 404, 422),
            ),
            Operation(
                "PUT",
                item,
                update,
                f"Update the given fields of a {noun}",
                self.tag,
                {200: one},
                body=self.update_body,
                path_params=PhonePath,
                errors=(400, 404, 422),
            ),
            Operation(
                "DELETE",
                item,
                delete,
                f"Delete a {noun}",
                self.tag,
                {204: None},
                path_params=PhonePath,
                errors=(404, 422),
            ),
        ]


def enveloped(model: type[BaseModel], *, many: bool = False) -> type[BaseModel]:
    """`Envelope[model]` (or of a list of them) for a model known only at run time."""
    data: Any = list[model] if many else model  # type: ignore[valid-type]
    enveloped: type[BaseModel] = Envelope[data]
    return enveloped
