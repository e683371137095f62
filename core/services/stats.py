"""A provider's figures over a range of days, and its appointments for export.

Both read the range in keyset pages, (day, id) after the last row seen, so a year of a
busy provider is never loaded at once: the figures fold each page into a running
summary (core.rules.stats.Summary), the export hands each page on as it comes. The
messages sent about the provider's lines are read the same way, by (sent_at, id),
into core.rules.message_stats.MessageTally.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.errors import InvalidRange
from core.models import ServiceAccount
from core.rules import stats as stats_rules
from core.rules.days import today_in, utcnow
from core.rules.exports import ExportRow
from core.rules.message_stats import MessageFigures, MessageTally
from core.services import service_accounts, sql
from core.services.statements import bind

PAGE_SIZE = 1000

# The first page starts from (start, 0): no id is 0, so it holds the whole first day.
_PAGE = """
SELECT a.id, a.day, a.status, a.created_at, a.called_at, a.status_changed_at,
       a.quoted_wait_minutes, u.name, u.phone
FROM appointments a
JOIN users u ON u.id = a.user_id
WHERE a.service_account_id = {account} AND a.day >= {after_day} AND a.day <= {end}
  AND (a.day > {after_day} OR a.id > {after_id})
ORDER BY a.day, a.id
LIMIT {size}
"""


# The provider's messages a channel accepted in [since, until), after (sent_at, id).
_SENT_PAGE = """
SELECT id, channel, text, sent_at FROM outbox
WHERE service_account_id = {account} AND status = 'sent'
  AND sent_at >= {after} AND sent_at < {until}
  AND (sent_at > {after} OR id > {after_id})
ORDER BY sent_at, id
LIMIT {size}
"""


def _checked(start: date, end: date) -> None:
    try:
        stats_rules.check_range(start, end)
    except stats_rules.BadRange as exc:
        raise InvalidRange(str(exc)) from None


async def _pages(
    account_id: int, start: date, end: date, *, size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    conn = sql.connection()
    after_day, after_id = start, 0
    while True:
        query, args = bind(
            conn,
            _PAGE,
            {
                "account": account_id,
                "after_day": sql.day_param(conn, after_day),
                "after_id": after_id,
                "end": sql.day_param(conn, end),
                "size": size,
            },
        )
        rows = await conn.execute_query_dict(query, args)
        if rows:
            yield rows
        if len(rows) < size:
            return
        after_day, after_id = sql.as_date(rows[-1]["day"]), rows[-1]["id"]


def _moment(value: Any) -> datetime | None:
    return None if value is None else sql.as_datetime(value)


def record_of(row: dict[str, Any]) -> stats_rules.Record:
    """The stats rules' record of an appointment row carrying day, status, created_at,
    called_at, status_changed_at and quoted_wait_minutes."""
    return stats_rules.Record(
        day=sql.as_date(row["day"]),
        status=row["status"],
        booked_at=sql.as_datetime(row["created_at"]),
        called_at=_moment(row["called_at"]),
        closed_at=_moment(row["status_changed_at"]),
        quoted_wait=row["quoted_wait_minutes"],
    )


def _export_row(row: dict[str, Any]) -> ExportRow:
    return ExportRow(
        id=row["id"],
        day=sql.as_date(row["day"]),
        status=row["status"],
        booked_at=sql.as_datetime(row["created_at"]),
        called_at=_moment(row["called_at"]),
        closed_at=_moment(row["status_changed_at"]),
        customer_name=row["name"],
        customer_phone=row["phone"],
        quoted_wait_minutes=row["quoted_wait_minutes"],
    )


async def _messages(
    account: ServiceAccount, start: date, end: date, *, price: Decimal | None, size: int
) -> MessageFigures:
    """The messages sent about the provider's lines on its days start..end."""
    midnight = stats_rules.midnight_opening(account.timezone)
    conn = sql.connection()
    tally = MessageTally()
    after, after_id = midnight(start), 0
    until = midnight(end + timedelta(days=1))
    while True:
        values = {
            "account": account.id,
            "after": sql.datetime_param(conn, after),
            "after_id": after_id,
            "until": sql.datetime_param(conn, until),
            "size": size,
        }
        rows = await conn.execute_query_dict(*bind(conn, _SENT_PAGE, values))
        for row in rows:
            tally.add(channel=row["channel"], text=row["text"])
        if len(rows) < size:
            return tally.figures(price_per_segment=price)
        after, after_id = sql.as_datetime(rows[-1]["sent_at"]), rows[-1]["id"]


async def _stats_of(
    account: ServiceAccount, start: date, end: date, *, price: Decimal | None
) -> stats_rules.Stats:
    summary = stats_rules.Summary(opening=stats_rules.midnight_opening(account.timezone))
    async for page in _pages(account.id, start, end, size=PAGE_SIZE):
        for row in page:
            summary.add(record_of(row))
    messages = await _messages(account, start, end, price=price, size=PAGE_SIZE)
    return replace(summary.stats(start=start, end=end), messages=messages)


async def range_stats(
    *,
    service_account_phone: str,
    start: date,
    end: date,
    sms_price_per_segment: Decimal | None = None,
) -> stats_rules.Stats:
    """The figures of the provider's appointments on days start..end (its own days), and
    of the messages sent about its lines (their cost at `sms_price_per_segment`).

    NotFound for an unknown provider; InvalidRange when start > end or the range is
    longer than core.rules.stats.MAX_RANGE_DAYS.
    """
    _checked(start, end)
    account = await service_accounts.get_service_account(phone=service_account_phone)
    return await _stats_of(account, start, end, price=sms_price_per_segment)


async def period_stats(
    *,
    account: ServiceAccount,
    word: str | None,
    now: datetime | None = None,
    sms_price_per_segment: Decimal | None = None,
) -> stats_rules.Stats:
    """STATS [day|week] by text: today's figures, or the seven days' ending today."""
    today = today_in(account.timezone, now=now or utcnow())
    start, end = stats_rules.period(word, today=today)
    return await _stats_of(account, start, end, price=sms_price_per_segment)


async def export_pages(
    *, service_account_phone: str, start: date, end: date, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[ExportRow]]:
    """The provider's appointments on days start..end, by day then id, a page at a time.

    Checks the range and finds the provider before returning, so a caller can refuse
    the request before it starts answering (the errors of range_stats).
    """
    _checked(start, end)
    account = await service_accounts.get_service_account(phone=service_account_phone)

    async def pages() -> AsyncIterator[list[ExportRow]]:
        async for page in _pages(account.id, start, end, size=page_size):
            yield [_export_row(row) for row in page]

    return pages()
