"""/appointments/: booking, the queue and status changes."""

from __future__ import annotations

from aiohttp import web

from core.models import Appointment
from core.services import appointments
from webhooks.admin.routing import Operation
from webhooks.admin.service_accounts import SERVICE_ACCOUNTS
from webhooks.admin.users import USERS
from webhooks.responses import envelope, envelope_raw
from webhooks.schemas import (
    AppointmentCreate,
    AppointmentDetail,
    AppointmentOut,
    Envelope,
    IdPath,
    QueueQuery,
)
from webhooks.validation import body_of, path_of, query_of


def detail_of(appointment: Appointment) -> AppointmentDetail:
    return AppointmentDetail(
        id=appointment.id,
        user_phone=appointment.user.phone,
        service_account_phone=appointment.service_account.phone,
        appointment_date=appointment.appointment_date,
        day=appointment.day,
        duration_minutes=appointment.duration_minutes,
        notes=appointment.notes,
        status=appointment.status.value,
        penalty=appointment.penalty,
        created_at=appointment.created_at,
        user=USERS.out_of(appointment.user),
        service_account=SERVICE_ACCOUNTS.out_of(appointment.service_account),
    )


async def create(request: web.Request) -> web.Response:
    body = await body_of(request, AppointmentCreate)
    booked = await appointments.book(
        user_phone=body.user_phone,
        service_account_phone=body.service_account_phone,
        appointment_date=body.appointment_date,
        duration_minutes=body.duration_minutes,
        notes=body.notes,
    )
    # The view has AppointmentOut's fields; serialising it directly skips a copy.
    return envelope("Appointment created successfully", booked, status=201)


async def queue(request: web.Request) -> web.Response:
    query = query_of(request, QueueQuery)
    selection = appointments.QueueSelection(
        service_account_phone=query.service_account_phone,
        day=query.day,
        user_phone=query.user_phone,
        skip=query.skip,
        limit=query.limit,
    )
    page = await appointments.queue_json(selection)
    return envelope_raw("Appointments queue retrieved successfully", page)


async def read(request: web.Request) -> web.Response:
    found = await appointments.get_appointment(appointment_id=path_of(request, IdPath).id)
    return envelope("Appointment retrieved successfully", detail_of(found))


async def cancel(request: web.Request) -> web.Response:
    changed = await appointments.cancel(appointment_id=path_of(request, IdPath).id)
    return envelope("Appointment canceled successfully", detail_of(changed))


async def complete(request: web.Request) -> web.Response:
    changed = await appointments.complete(appointment_id=path_of(request, IdPath).id)
    return envelope("Appointment completed successfully", detail_of(changed))


async def no_show(request: web.Request) -> web.Response:
    changed = await appointments.mark_no_show(appointment_id=path_of(request, IdPath).id)
    return envelope("Appointment marked as no-show successfully", detail_of(changed))


_TAG = "appointments"
OPERATIONS = [
    Operation(
        "POST",
        "/appointments/",
        create,
        "Book an appointment",
        _TAG,
        {201: Envelope[AppointmentOut]},
        body=AppointmentCreate,
        errors=(400, 404, 422),
    ),
    Operation(
        "GET",
        "/appointments/",
        queue,
        "A service account's ranked queue",
        _TAG,
        {200: Envelope[list[AppointmentOut]]},
        query=QueueQuery,
        errors=(404, 422),
    ),
    Operation(
        "GET",
        "/appointments/{id}",
        read,
        "Read an appointment",
        _TAG,
        {200: Envelope[AppointmentDetail]},
        path_params=IdPath,
        errors=(404, 422),
    ),
    Operation(
        "DELETE",
        "/appointments/{id}",
        cancel,
        "Cancel an appointment (the user's cancellation)",
        _TAG,
        {200: Envelope[AppointmentDetail]},
        path_params=IdPath,
        errors=(400, 404, 422),
    ),
    Operation(
        "PUT",
        "/appointments/{id}/complete",
        complete,
        "Complete an appointment",
        _TAG,
        {200: Envelope[AppointmentDetail]},
        path_params=IdPath,
        errors=(400, 404, 422),
    ),
    Operation(
        "PUT",
        "/appointments/{id}/no-show",
        no_show,
        "Mark an appointment as a no-show",
        _TAG,
        {200: Envelope[AppointmentDetail]},
        path_params=IdPath,
        errors=(400, 404, 422),
    ),
]
