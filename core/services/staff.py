"""A provider's staff phones: other phones that may sign in to its console and send its
text commands (core.services.correspondents reads them with who is writing)."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from core.errors import AlreadyExists, InvalidInput
from core.models import ServiceAccount, StaffPhone
from core.rules.console_access import MAX_STAFF_PHONES


async def attach(accounts: Sequence[ServiceAccount]) -> None:
    """Set each account's `staff_phones`, in one read for all of them."""
    found: dict[int, list[str]] = {a.id: [] for a in accounts}
    if found:
        rows = await StaffPhone.filter(service_account_id__in=list(found)).order_by("id")
        for row in rows:
            found[row.service_account_id].append(row.phone)
    for account in accounts:
        account.staff_phones = found[account.id]


def check(account_phone: str, phones: Sequence[str]) -> list[str]:
    """The list to store: no duplicates, not the provider's own phone, not too many."""
    unique = list(dict.fromkeys(phones))
    if account_phone in unique:
        raise InvalidInput("staff_phones must not include the provider's own phone")
    if len(unique) > MAX_STAFF_PHONES:
        raise InvalidInput(f"staff_phones may list at most {MAX_STAFF_PHONES} phones")
    return unique


async def replace(
    *, conn: BaseDBAsyncClient, account: ServiceAccount, phones: Sequence[str]
) -> None:
    """Make `phones` the account's staff phones (in the caller's transaction)."""
    unique = check(account.phone, phones)
    clash = (
        await ServiceAccount.filter(phone__in=unique).using_db(conn).exists() if unique else False
    )
    if clash:
        raise AlreadyExists("A staff phone is another provider's own phone")
    await StaffPhone.filter(service_account_id=account.id).using_db(conn).delete()
    try:
        await StaffPhone.bulk_create(
            [StaffPhone(service_account_id=account.id, phone=p) for p in unique], using_db=conn
        )
    except IntegrityError as exc:
        raise AlreadyExists("A staff phone is already another provider's staff") from exc
    account.staff_phones = unique
