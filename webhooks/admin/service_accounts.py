"""/service-accounts/: providers."""

from __future__ import annotations

from aiohttp import web

from core.models import ServiceAccount
from core.services import appointments, service_accounts
from webhooks.admin.routing import Operation
from webhooks.responses import envelope
from webhooks.schemas import (
    AppointmentOut,
    Envelope,
    Page,
    PhonePath,
    ServiceAccountCreate,
    ServiceAccountDetail,
    ServiceAccountOut,
    ServiceAccountUpdate,
)
from webhooks.validation import body_of, path_of, query_of


def account_out(account: ServiceAccount) -> ServiceAccountOut:
    return ServiceAccountOut.model_validate(account, from_attributes=True)


async def create(request: web.Request) -> web.Response:
    body = await body_of(request, ServiceAccountCreate)
    account = await service_accounts.create_service_account(**body.model_dump())
    return envelope("Service account created successfully", account_out(account), status=201)


async def listing(request: web.Request) -> web.Response:
    page = query_of(request, Page)
    found = await service_accounts.list_service_accounts(skip=page.skip, limit=page.limit)
    return envelope("Service accounts retrieved successfully", [account_out(a) for a in found])


async def read(request: web.Request) -> web.Response:
    phone = path_of(request, PhonePath).phone
    account = await service_accounts.get_service_account(phone=phone)
    booked = await appointments.account_appointments(service_account_id=account.id)
    detail = ServiceAccountDetail(
        **account_out(account).model_dump(),
        appointments=[AppointmentOut.model_validate(a, from_attributes=True) for a in booked],
    )
    return envelope("Service account retrieved successfully", detail)


async def update(request: web.Request) -> web.Response:
    phone = path_of(request, PhonePath).phone
    body = await body_of(request, ServiceAccountUpdate)
    account = await service_accounts.update_service_account(phone=phone, changes=body.changes())
    return envelope("Service account updated successfully", account_out(account))


async def delete(request: web.Request) -> web.Response:
    await service_accounts.delete_service_account(phone=path_of(request, PhonePath).phone)
    return web.Response(status=204)


OPERATIONS = [
    Operation(
        "POST",
        "/service-accounts/",
        create,
        "Create a service account",
        "service accounts",
        {201: Envelope[ServiceAccountOut]},
        body=ServiceAccountCreate,
        errors=(400, 422),
    ),
    Operation(
        "GET",
        "/service-accounts/",
        listing,
        "List service accounts in creation order",
        "service accounts",
        {200: Envelope[list[ServiceAccountOut]]},
        query=Page,
    ),
    Operation(
        "GET",
        "/service-accounts/{phone}",
        read,
        "Read a service account with its appointments",
        "service accounts",
        {200: Envelope[ServiceAccountDetail]},
        path_params=PhonePath,
        errors=(404, 422),
    ),
    Operation(
        "PUT",
        "/service-accounts/{phone}",
        update,
        "Update the given fields of a service account",
        "service accounts",
        {200: Envelope[ServiceAccountOut]},
        body=ServiceAccountUpdate,
        path_params=PhonePath,
        errors=(400, 404, 422),
    ),
    Operation(
        "DELETE",
        "/service-accounts/{phone}",
        delete,
        "Delete a service account",
        "service accounts",
        {204: None},
        path_params=PhonePath,
        errors=(404, 422),
    ),
]
