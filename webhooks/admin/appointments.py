"""/appointments/: booking, the queue and status changes."""

from __future__ import annotations

from aiohttp import web

from core.models import Status
from core.services import appointment_views, booking, queue_pages, status_changes
from core.services.appointment_views import FIELDS, AppointmentWithParties
from webhooks.admin import idempotent
from webhooks.admin.idempotent import scope_of
from webhooks.admin.routing import Handler, Operation
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
from webhooks.state import OUTBOX_WAKEUP, QUEUE_PAGES
from webhooks.validation import body_of, path_of, query_of


def detail_of(appointment: AppointmentWithParties) -> AppointmentDetail:
    return AppointmentDetail(
        **{name: getattr(appointment, name) for name in FIELDS},
        user=USERS.out_of(appointment.user),
        service_account=SERVICE_ACCOUNTS.out_of(appointment.service_account),
    )


_CREATE_SCOPE = scope_of("POST", "/appointments/")


async def create(request: web.Request) -> web.Response:
    body = await body_of(request, AppointmentCreate)

    async def book() -> web.Response:
        booked = await booking.book(
            user_phone=body.user_phone,
            service_account_phone=body.service_account_phone,
            appointment_date=body.appointment_date,
            duration_minutes=body.duration_minutes,
            notes=body.notes,
        )
        # The view has AppointmentOut's fields; serialising it directly skips a copy.
        return envelope("Appointment created successfully", booked, status=201)

    return await idempotent.respond(request, _CREATE_SCOPE, book)


async def queue(request: web.Request) -> web.Response:
    query = query_of(request, QueueQuery)
    selection = queue_pages.QueueSelection(
        service_account_phone=query.service_account_phone,
        day=query.day,
        user_phone=query.user_phone,
        skip=query.skip,
        limit=query.limit,
    )
    page = await queue_pages.queue_json(selection, cache=request.app[QUEUE_PAGES])
    return envelope_raw("Appointments queue retrieved successfully", page)


async def read(request: web.Request) -> web.Response:
    found = await appointment_views.get_appointment(appointment_id=path_of(request, IdPath).id)
    return envelope("Appointment retrieved successfully", detail_of(found))


def _status_change(to: Status, message: str) -> Handler:
    """A handler that moves the appointment in the path to `to` (DELETE is the cancel)."""

    async def handler(request: web.Request) -> web.Response:
        appointment_id = path_of(request, IdPath).id
        with request.app[OUTBOX_WAKEUP].after_writes():
            changed = await status_changes.change_status(appointment_id=appointment_id, to=to)
        return envelope(message, detail_of(changed))

    return handler


def _status_operation(method: str, path: str, to: Status, summary: str, message: str) -> Operation:
    return Operation(
        method,
        path,
        _status_change(to, message),
        summary,
        _TAG,
        {200: Envelope[AppointmentDetail]},
        path_params=IdPath,
        errors=(400, 404, 422),
    )


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
        errors=(400, 404, 409, 422),
        idempotent=True,
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
    _status_operation(
        "DELETE",
        "/appointments/{id}",
        Status.CANCELED,
        "Cancel an appointment (the user's cancellation)",
        "Appointment canceled successfully",
    ),
    _status_operation(
        "PUT",
        "/appointments/{id}/complete",
        Status.COMPLETED,
        "Complete an appointment",
        "Appointment completed successfully",
    ),
    _status_operation(
        "PUT",
        "/appointments/{id}/no-show",
        Status.NO_SHOW,
        "Mark an appointment as a no-show",
        "Appointment marked as no-show successfully",
    ),
]
