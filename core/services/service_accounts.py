"""Use cases for providers (service accounts)."""

from __future__ import annotations

import math
from typing import Any

from tortoise.transactions import in_transaction

from core import locales
from core.errors import InvalidInput, UnknownLanguage
from core.models import ServiceAccount
from core.rules.capacity import MAX_CAPACITY, MAX_CHAIRS
from core.rules.days import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    InvalidTimezone,
    validate_timezone,
)
from core.rules.grace import MAX_GRACE_MINUTES
from core.rules.hours import InvalidHours, check_closed_dates, check_hours
from core.rules.regions import FALLBACK_REGION, InvalidRegion, effective_country, known_region
from core.services import phone_records, staff

LABEL = "Service account"


def _check_rules(fields: dict[str, Any]) -> None:
    for key in ("cancellation_weight", "no_show_weight"):
        if key in fields and fields[key] is not None and fields[key] < 0:
            raise InvalidInput(f"{key} must be >= 0")
    half_life = fields.get("penalty_half_life_days")
    if half_life is not None and half_life <= 0:
        raise InvalidInput("penalty_half_life_days must be > 0")
    horizon = fields.get("booking_horizon_days")
    if horizon is not None and not MIN_HORIZON_DAYS <= horizon <= MAX_HORIZON_DAYS:
        raise InvalidInput(
            f"booking_horizon_days must be between {MIN_HORIZON_DAYS} and {MAX_HORIZON_DAYS}"
        )
    for key, top in (
        ("max_waiting", MAX_CAPACITY),
        ("daily_limit", MAX_CAPACITY),
        ("chairs", MAX_CHAIRS),
    ):
        value = fields.get(key)
        if value is not None and not 1 <= value <= top:
            raise InvalidInput(f"{key} must be between 1 and {top}")
    for key in ("grace_minutes", "auto_call_next"):
        if key in fields and fields[key] is None:
            raise InvalidInput(f"{key} cannot be null")
    grace = fields.get("grace_minutes")
    if grace is not None and not (math.isfinite(grace) and 0 <= grace <= MAX_GRACE_MINUTES):
        raise InvalidInput(f"grace_minutes must be between 0 and {MAX_GRACE_MINUTES:g}")
    if "chairs" in fields and fields["chairs"] is None:
        raise InvalidInput("chairs cannot be null")
    if "timezone" in fields:
        try:
            validate_timezone(fields["timezone"])
        except InvalidTimezone as exc:
            raise InvalidInput(str(exc)) from exc
    try:
        if "hours" in fields:
            fields["hours"] = check_hours(fields["hours"])
        if "closed_dates" in fields:
            fields["closed_dates"] = check_closed_dates(fields["closed_dates"])
    except InvalidHours as exc:
        raise InvalidInput(str(exc)) from exc
    if "language" in fields and fields["language"] not in locales.languages():
        known = ", ".join(sorted(locales.languages()))
        raise UnknownLanguage(f"language must be one of: {known}")
    if fields.get("country") is not None:
        try:
            fields["country"] = known_region(fields["country"])
        except InvalidRegion as exc:
            raise InvalidInput(f"country {exc}") from exc


async def create_service_account(
    *,
    phone: str,
    name: str,
    country: str | None = None,
    default_country: str = FALLBACK_REGION,
    **fields: Any,
) -> ServiceAccount:
    """Create a provider; without a `country`, it gets its time zone's one country, else
    `default_country` (the DEFAULT_PHONE_REGION setting)."""
    fields["country"] = country
    _check_rules(fields)
    fields["country"] = effective_country(
        fields["country"], fields.get("timezone") or "UTC", default_country
    )
    staff_phones = staff.check(phone, fields.pop("staff_phones", None) or [])
    async with in_transaction("default") as conn:
        account = await phone_records.create(
            ServiceAccount, label=LABEL, fields={"phone": phone, "name": name, **fields}
        )
        await staff.replace(conn=conn, account=account, phones=staff_phones)
    return account


def region_of(account: ServiceAccount) -> str:
    """Where the provider is, for numbers typed without a country code and the order of
    numeric dates: its country, else its time zone's one country, else the fallback."""
    return effective_country(account.country, account.timezone, FALLBACK_REGION)


async def is_provider_phone(*, phone: str) -> bool:
    """Whether `phone` is a provider's (a customer who texts it has that provider as
    the default)."""
    return await ServiceAccount.exists(phone=phone)


async def language_of(*, phone: str | None) -> str:
    """The language of the provider whose phone this is (its customers who have not
    written in theirs are written to in it); no provider: the default language."""
    if phone is None:
        return locales.DEFAULT
    account = await ServiceAccount.get_or_none(phone=phone).only("id", "language")
    if account is None or account.language not in locales.languages():
        return locales.DEFAULT
    return account.language


async def set_language(*, account: ServiceAccount, language: str) -> None:
    """A provider's ESPAÑOL or ENGLISH: its replies are in `language` from now on."""
    await ServiceAccount.filter(id=account.id).update(language=language)
    account.language = language


async def provider_name(*, phone: str) -> str | None:
    """The name of the provider whose phone this is, if it is one."""
    account = await ServiceAccount.get_or_none(phone=phone).only("name")
    return account.name if account is not None else None


async def list_service_accounts(*, skip: int = 0, limit: int = 100) -> list[ServiceAccount]:
    found = await phone_records.listing(ServiceAccount, skip=skip, limit=limit)
    await staff.attach(found)
    return found


async def get_service_account(*, phone: str) -> ServiceAccount:
    account = await phone_records.get(ServiceAccount, label=LABEL, phone=phone)
    await staff.attach([account])
    return account


async def update_service_account(*, phone: str, changes: dict[str, Any]) -> ServiceAccount:
    _check_rules(changes)
    staff_phones = changes.pop("staff_phones", None)
    async with in_transaction("default") as conn:
        account = await phone_records.update(
            ServiceAccount, label=LABEL, phone=phone, changes=changes
        )
        if staff_phones is not None:
            await staff.replace(conn=conn, account=account, phones=staff_phones)
        else:
            await staff.attach([account])
    return account


async def delete_service_account(*, phone: str) -> None:
    await phone_records.delete(ServiceAccount, label=LABEL, phone=phone)
