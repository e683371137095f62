"""The console's view of one line: the rows its table shows, read through the same
services as the provider's QUEUE (core.services.lines, waits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.models import Appointment, ReliabilityScore, ServiceAccount
from core.rules.phones import mask_phone
from core.services import lines, waits

# As QUEUE's reply: the table shows the front of a long line and counts the rest.
SHOWN = 100


@dataclass(frozen=True, slots=True)
class Row:
    appointment_id: int
    # Position in the waiting line (1 first); None for someone being served.
    position: int | None
    name: str
    # Never more of a phone than its last 4 digits on a page.
    phone_tail: str
    wait_minutes: int | None
    # Recent no-shows (the running, decaying count, rounded): 0 is a clean record.
    no_shows: int
    called: bool
    confirmed: bool


@dataclass(frozen=True, slots=True)
class LineView:
    day: date
    serving: list[Row]
    waiting: list[Row]
    waiting_total: int


async def _no_shows(account_id: int, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    scores = await ReliabilityScore.filter(service_account_id=account_id, user_id__in=user_ids)
    return {s.user_id: round(s.no_shows) for s in scores}


def _row(a: Appointment, *, position: int | None, wait: int | None, marks: dict[int, int]) -> Row:
    return Row(
        appointment_id=a.id,
        position=position,
        name=a.user.name,
        phone_tail=mask_phone(a.user.phone),
        wait_minutes=wait,
        no_shows=marks.get(a.user_id, 0),
        called=a.called_at is not None,
        confirmed=a.confirmed_at is not None,
    )


async def line_view(*, account: ServiceAccount, day: date, now: datetime) -> LineView:
    serving = await lines.serving(service_account_id=account.id, day=day)
    waiting = await lines.waiting(service_account_id=account.id, day=day, limit=SHOWN)
    total = await lines.count_waiting(service_account_id=account.id, day=day)
    marks = await _no_shows(account.id, [a.user_id for a in (*serving, *waiting)])
    # The waits the customers themselves are quoted, DELAY included (as QUEUE).
    basis = waits.account_basis(account, day=day, now=now)
    rows, booked = [], 0
    for ahead, appointment in enumerate(waiting):
        wait = basis.wait(ahead=ahead, booked_minutes=booked).minutes
        rows.append(_row(appointment, position=ahead + 1, wait=wait, marks=marks))
        booked += appointment.duration_minutes
    return LineView(
        day=day,
        serving=[_row(a, position=None, wait=None, marks=marks) for a in serving],
        waiting=rows,
        waiting_total=total,
    )
