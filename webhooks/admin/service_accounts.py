"""/service-accounts/: providers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.models import ServiceAccount
from core.services import appointment_views, boards, service_accounts
from webhooks.admin.phone_resources import PhoneResource, enveloped
from webhooks.admin.routing import Operation
from webhooks.responses import envelope
from webhooks.schemas import (
    BoardKeyOut,
    PhonePath,
    ServiceAccountCreate,
    ServiceAccountDetail,
    ServiceAccountOut,
    ServiceAccountUpdate,
)
from webhooks.state import SETTINGS
from webhooks.validation import path_of


def _create_options(request: web.Request) -> dict[str, Any]:
    return {"default_country": request.app[SETTINGS].default_phone_region}


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
    whose=lambda account: appointment_views.of_account(account.id),
    create_options=_create_options,
)


async def rotate_board_key(request: web.Request) -> web.Response:
    """A new board key, shown this once (only its hash is kept); the old one stops
    opening the board."""
    key, account = await boards.rotate_key(phone=path_of(request, PhonePath).phone)
    url = None
    if account.code:
        base = (request.app[SETTINGS].public_base_url or "").rstrip("/")
        url = f"{base}/board/{account.code}?key={key}"
    return envelope("Board key rotated", BoardKeyOut(key=key, board_url=url))


OPERATIONS = [
    *SERVICE_ACCOUNTS.operations(),
    Operation(
        "POST",
        "/service-accounts/{phone}/board-key",
        rotate_board_key,
        "Rotate the lobby board's key (for a board with board_public false)",
        "service accounts",
        {200: enveloped(BoardKeyOut)},
        path_params=PhonePath,
        errors=(404, 422),
    ),
]
