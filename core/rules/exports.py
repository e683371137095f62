"""The columns of a range's appointments exported as CSV.

Exports end up in spreadsheets and mailboxes, so a customer's phone is masked to its
last four digits, like a provider's SMS replies show it; the full number stays behind
the admin API's token (GET /appointments/{id}).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.rules.phones import mask_phone

HEADER = (
    "id",
    "day",
    "status",
    "booked_at",
    "called_at",
    "closed_at",
    "customer_name",
    "customer_phone",
    # The wait quoted at joining (minutes; empty for an API booking): set against
    # called_at - booked_at, how good the estimates were.
    "quoted_wait_minutes",
)


@dataclass(frozen=True, slots=True)
class ExportRow:
    id: int
    day: date
    status: str
    booked_at: datetime
    called_at: datetime | None
    closed_at: datetime | None
    customer_name: str
    customer_phone: str
    quoted_wait_minutes: int | None = None


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def cells(row: ExportRow) -> tuple[str, ...]:
    """One CSV row, in HEADER's order: times in UTC (ISO 8601), the day the provider's."""
    return (
        str(row.id),
        row.day.isoformat(),
        row.status,
        _moment(row.booked_at),
        _moment(row.called_at),
        _moment(row.closed_at),
        row.customer_name,
        mask_phone(row.customer_phone),
        "" if row.quoted_wait_minutes is None else str(row.quoted_wait_minutes),
    )
