"""WHY: a customer's own record with one provider, as it weighs on their place in line.

The running score (written by core.services.status_changes) gives the weight today and
when it fades below one cancellation's (core.rules.penalty); the count of events that
still count is read from the customer's own appointments with that provider. Nothing
here reads another customer's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count

from core.errors import NotFound
from core.models import Appointment, ReliabilityScore, ServiceAccount, Status
from core.rules import penalty as penalty_rules
from core.rules.days import utcnow


@dataclass(frozen=True, slots=True)
class Record:
    """What a customer's cancellations and no-shows with one provider weigh today."""

    place_name: str
    timezone: str
    # Events from penalty_rules.counting_since on.
    cancellations: int
    no_shows: int
    # The penalty a booking made now would carry.
    weight: float
    cancellation_weight: float
    half_life_days: float
    # When the weight falls below cancellation_weight (now if it is already below);
    # None if it never will.
    below_one_cancellation: datetime | None


def weights_of(account: ServiceAccount) -> penalty_rules.Weights:
    return penalty_rules.Weights(
        enabled=account.enable_cancellation_scoring,
        cancellation=account.cancellation_weight,
        no_show=account.no_show_weight,
        half_life_days=account.penalty_half_life_days,
    )


async def _account(
    *, appointment_id: int | None, service_account_phone: str | None
) -> ServiceAccount:
    if appointment_id is not None:
        found = await Appointment.get_or_none(id=appointment_id).select_related("service_account")
        if found is not None:
            return found.service_account
    elif service_account_phone is not None:
        account = await ServiceAccount.get_or_none(phone=service_account_phone)
        if account is not None:
            return account
    raise NotFound("Service account not found")


async def explain(
    *,
    user_phone: str,
    appointment_id: int | None = None,
    service_account_phone: str | None = None,
    now: datetime | None = None,
) -> Record:
    """The record of the customer with `user_phone` at the provider of `appointment_id`
    (or the one with `service_account_phone`). NotFound if there is no such provider."""
    now = now or utcnow()
    account = await _account(
        appointment_id=appointment_id, service_account_phone=service_account_phone
    )
    weights = weights_of(account)
    row = await ReliabilityScore.get_or_none(
        user__phone=user_phone, service_account_id=account.id
    )
    score = None if row is None else penalty_rules.Score(row.cancellations, row.no_shows, row.as_of)
    counts: dict[str, int] = {}
    if weights.enabled and score is not None:
        since = penalty_rules.counting_since(now=now, half_life_days=weights.half_life_days)
        rows = await (
            Appointment.filter(
                user__phone=user_phone,
                service_account_id=account.id,
                status__in=[Status.CANCELED, Status.NO_SHOW],
                status_changed_at__gte=since,
            )
            .annotate(n=Count("id"))
            .group_by("status")
            .values_list("status", "n")
        )
        counts = {str(status): int(n) for status, n in rows}
    return Record(
        place_name=account.name,
        timezone=account.timezone,
        cancellations=counts.get(Status.CANCELED.value, 0),
        no_shows=counts.get(Status.NO_SHOW.value, 0),
        weight=penalty_rules.penalty(score, weights, now=now),
        cancellation_weight=weights.cancellation,
        half_life_days=weights.half_life_days,
        below_one_cancellation=penalty_rules.below_one_cancellation(score, weights, now=now),
    )
