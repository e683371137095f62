"""/users/: customers."""

from __future__ import annotations

from aiohttp import web

from core.models import User
from core.services import appointments, users
from webhooks.admin.routing import Operation
from webhooks.responses import envelope
from webhooks.schemas import (
    AppointmentOut,
    Envelope,
    Page,
    PhonePath,
    UserCreate,
    UserDetail,
    UserOut,
    UserUpdate,
)
from webhooks.validation import body_of, path_of, query_of


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


async def create(request: web.Request) -> web.Response:
    body = await body_of(request, UserCreate)
    user = await users.create_user(name=body.name, phone=body.phone, email=body.email)
    return envelope("User created successfully", user_out(user), status=201)


async def listing(request: web.Request) -> web.Response:
    page = query_of(request, Page)
    found = await users.list_users(skip=page.skip, limit=page.limit)
    return envelope("Users retrieved successfully", [user_out(u) for u in found])


async def read(request: web.Request) -> web.Response:
    phone = path_of(request, PhonePath).phone
    user = await users.get_user(phone=phone)
    booked = await appointments.user_appointments(user_id=user.id)
    detail = UserDetail(
        **user_out(user).model_dump(),
        appointments=[AppointmentOut.model_validate(a, from_attributes=True) for a in booked],
    )
    return envelope("User retrieved successfully", detail)


async def update(request: web.Request) -> web.Response:
    phone = path_of(request, PhonePath).phone
    body = await body_of(request, UserUpdate)
    user = await users.update_user(phone=phone, changes=body.changes())
    return envelope("User updated successfully", user_out(user))


async def delete(request: web.Request) -> web.Response:
    await users.delete_user(phone=path_of(request, PhonePath).phone)
    return web.Response(status=204)


OPERATIONS = [
    Operation(
        "POST",
        "/users/",
        create,
        "Create a user",
        "users",
        {201: Envelope[UserOut]},
        body=UserCreate,
        errors=(400, 422),
    ),
    Operation(
        "GET",
        "/users/",
        listing,
        "List users in creation order",
        "users",
        {200: Envelope[list[UserOut]]},
        query=Page,
    ),
    Operation(
        "GET",
        "/users/{phone}",
        read,
        "Read a user with their appointments",
        "users",
        {200: Envelope[UserDetail]},
        path_params=PhonePath,
        errors=(404, 422),
    ),
    Operation(
        "PUT",
        "/users/{phone}",
        update,
        "Update the given fields of a user",
        "users",
        {200: Envelope[UserOut]},
        body=UserUpdate,
        path_params=PhonePath,
        errors=(404, 422),
    ),
    Operation(
        "DELETE",
        "/users/{phone}",
        delete,
        "Delete a user",
        "users",
        {204: None},
        path_params=PhonePath,
        errors=(404, 422),
    ),
]
