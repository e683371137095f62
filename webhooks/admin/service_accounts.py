"""/service-accounts/: providers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.models import ServiceAccount
from core.services import appointment_views, service_accounts
from core.services.appointment_views import AppointmentView
from webhooks.admin.phone_resources import PhoneResource
from webhooks.schemas import (
    ServiceAccountCreate,
    ServiceAccountDetail,
    ServiceAccountOut,
    ServiceAccountUpdate,
)
from webhooks.state import SETTINGS


def _create_options(request: web.Request) -> dict[str, Any]:
    return {"default_country": request.app[SETTINGS].default_phone_region}


async def _appointments(account: ServiceAccount) -> list[AppointmentView]:
    return await appointment_views.account_appointments(service_account_id=account.id)


SERVICE_ACCOUNTS: PhoneResource[ServiceAccount] = PhoneResource(
    path="/service-accounts/",
    noun="Service account",
    plural="Service accounts",
    tag="service accounts",
    create_body=ServiceAccountCreate,
    update_body=ServiceAccountUpdate,
    out=ServiceAccountOut,
    detail=ServiceAccountDetail,
    create=service_accounts.create_service_account,
    listing=service_accounts.list_service_accounts,
    get=service_accounts.get_service_account,
    update=service_accounts.update_service_account,
    delete=service_accounts.delete_service_account,
    appointments=_appointments,
    create_options=_create_options,
)
OPERATIONS = SERVICE_ACCOUNTS.operations()
