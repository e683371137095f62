"""The lobby board's reads and its key: who is being served, who is next, and the wait
quoted to someone joining now, the way JOIN quotes it (core.services.booking_spots)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from core.models import Appointment, ServiceAccount
from core.rules import boards as board_rules
from core.rules import limits
from core.rules.queue_spot import Spot
from core.services import booking_spots, lines, service_accounts

# Bytes of randomness in a board key (128 bits, URL-safe text of 22 characters).
KEY_BYTES = 16


@dataclass(frozen=True, slots=True)
class Board:
    name: str
    serving: tuple[str, ...]
    waiting: tuple[str, ...]
    waiting_count: int
    join_now: Spot


async def account_for_code(code: str) -> ServiceAccount | None:
    """The provider with this board code (codes are stored upper-case), if any; a text
    that cannot be a code is not looked up at all."""
    if not limits.is_code(code):
        return None
    return await ServiceAccount.get_or_none(code=code.upper())


async def rotate_key(*, phone: str) -> tuple[str, ServiceAccount]:
    """A new board key for the provider (NotFound for an unknown phone): only its hash is
    stored, so the key is returned this once, and the previous key stops working."""
    account = await service_accounts.get_service_account(phone=phone)
    key = secrets.token_urlsafe(KEY_BYTES)
    account.board_key_hash = board_rules.key_hash(key)
    await account.save(update_fields=["board_key_hash"])
    return key, account


def _labels(spots: list[Appointment], board_names: str) -> tuple[str, ...]:
    return tuple(
        board_rules.label(name=a.user.name, ticket=a.ticket, board_names=board_names) for a in spots
    )


async def read(*, account_id: int, day: date, now: datetime) -> Board | None:
    """The board of the provider's line on `day` (None once the provider is gone): five
    bounded reads, the provider's row first so that a changed setting (board_names)
    shows at the next change; made once per line change for every board showing it
    (webhooks.live.LineHub.shared)."""
    account = await ServiceAccount.get_or_none(id=account_id)
    if account is None:
        return None
    serving = await lines.serving(
        service_account_id=account.id, day=day, latest=board_rules.SERVING_SHOWN
    )
    waiting = await lines.waiting(
        service_account_id=account.id, day=day, limit=board_rules.WAITING_SHOWN
    )
    count = await lines.count_waiting(service_account_id=account.id, day=day)
    # Someone joining now with a clean record: the spot and quote JOIN would give them.
    join_now = await booking_spots.spot_before(
        {
            "account_id": account.id,
            "timezone": account.timezone,
            "chairs": account.chairs,
            "wait_profile": account.wait_profile,
            "delay_day": account.delay_day,
            "delay_minutes": account.delay_minutes,
        },
        day=day,
        penalty=0.0,
        now=now,
    )
    return Board(
        name=account.name,
        # The most recently called first: the name the room is looking for.
        serving=_labels(serving, account.board_names),
        waiting=_labels(waiting, account.board_names),
        waiting_count=count,
        join_now=join_now,
    )
