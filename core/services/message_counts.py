"""The counts pruning keeps of the messages it deletes (`message_counts`), and what STATS
reads of them.

Counted in the transaction that deletes the rows, so a message is either still a row
or in a count, never both and never neither: STATS add the counts of a range to the
rows of that range and get what the rows alone said before a prune.

Outbox rows sent about a provider's line (its `service_account_id`) are counted as
STATS read them: per provider-local day of `sent_at`, per channel, with their SMS
segments; other outbox rows, under direction "unsent" or NO_PROVIDER, per UTC day of
creation. Inbound records, per UTC day received, for the provider the phone is, is
staff of, or has a visit with that day.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models.retention import NO_PROVIDER
from core.rules.days import local_day
from core.rules.gsm import segments
from core.services import sql
from core.services.statements import bind

SENT = "sent"

_ACCOUNT_OF_PHONE = """COALESCE(
    (SELECT sa.id FROM service_accounts sa WHERE sa.phone = m.phone),
    (SELECT sp.service_account_id FROM staff_phones sp WHERE sp.phone = m.phone),
    (SELECT MIN(a.service_account_id) FROM appointments a JOIN users u ON u.id = a.user_id
     WHERE u.phone = m.phone AND a.day = m.received_on),
    0)"""

_COUNT_INBOUND = f"""
INSERT INTO message_counts (day, service_account_id, channel, direction, messages, segments)
SELECT day, account, channel, 'in', COUNT(*), 0 FROM (
  SELECT m.received_on AS day, m.channel AS channel, {_ACCOUNT_OF_PHONE} AS account
  FROM inbound_messages m WHERE m.id IN ({{ids}})
) counted WHERE true
GROUP BY day, account, channel
ON CONFLICT (day, service_account_id, channel, direction)
DO UPDATE SET messages = message_counts.messages + excluded.messages
"""  # noqa: S608

_OUTBOX_ROWS = """
SELECT o.channel, o.text, o.status, o.sent_at, o.created_at, o.service_account_id,
       sa.timezone
FROM outbox o LEFT JOIN service_accounts sa ON sa.id = o.service_account_id
WHERE o.id IN ({ids})
"""

_ADD = """
INSERT INTO message_counts (day, service_account_id, channel, direction, messages, segments)
VALUES ({day}, {account}, {channel}, {direction}, {messages}, {segments})
ON CONFLICT (day, service_account_id, channel, direction)
DO UPDATE SET messages = message_counts.messages + excluded.messages,
              segments = message_counts.segments + excluded.segments
"""

_SENT_COUNTED = """
SELECT channel, SUM(messages) AS messages, SUM(segments) AS segments FROM message_counts
WHERE service_account_id = {account} AND direction = 'sent' AND day >= {start} AND day <= {end}
GROUP BY channel
"""


def ids_list(conn: BaseDBAsyncClient) -> str:
    """A batch's ids as one parameter `{ids}`, for `WHERE id IN (...)`."""
    if conn.capabilities.dialect == "postgres":
        return "SELECT unnest({ids}::bigint[])"
    return "SELECT value FROM json_each({ids})"


def ids_param(conn: BaseDBAsyncClient, ids: list[int]) -> Any:
    return ids if conn.capabilities.dialect == "postgres" else "[" + ",".join(map(str, ids)) + "]"


async def count_inbound(tx: BaseDBAsyncClient, ids: list[int]) -> None:
    statement = _COUNT_INBOUND.replace("{ids}", ids_list(tx))
    await tx.execute_query(*bind(tx, statement, {"ids": ids_param(tx, ids)}))


async def count_outbox(tx: BaseDBAsyncClient, ids: list[int]) -> None:
    statement = _OUTBOX_ROWS.replace("{ids}", ids_list(tx))
    rows = await tx.execute_query_dict(*bind(tx, statement, {"ids": ids_param(tx, ids)}))
    counted: Counter[tuple[date, int, str, str]] = Counter()
    pieces: Counter[tuple[date, int, str, str]] = Counter()
    for row in rows:
        if row["status"] == SENT and row["service_account_id"] and row["sent_at"] is not None:
            moment = sql.as_datetime(row["sent_at"])
            key = (
                local_day(moment, row["timezone"] or "UTC"),
                row["service_account_id"],
                row["channel"],
                SENT,
            )
            if row["channel"] == "sms":
                pieces[key] += segments(row["text"])
        else:
            created = sql.as_datetime(row["created_at"]).date()
            key = (created, row["service_account_id"] or NO_PROVIDER, row["channel"], "unsent")
            if row["status"] == SENT:
                key = (*key[:3], SENT)
        counted[key] += 1
    for (day, account, channel, direction), messages in counted.items():
        values = {
            "day": sql.day_param(tx, day),
            "account": account,
            "channel": channel,
            "direction": direction,
            "messages": messages,
            "segments": pieces[(day, account, channel, direction)],
        }
        await tx.execute_query(*bind(tx, _ADD, values))


async def sent_counted(*, account_id: int, start: date, end: date) -> list[tuple[str, int, int]]:
    """(channel, messages, SMS segments) the prunes counted of the provider's sent
    messages on its days start..end."""
    conn = sql.connection()
    values = {
        "account": account_id,
        "start": sql.day_param(conn, start),
        "end": sql.day_param(conn, end),
    }
    rows = await conn.execute_query_dict(*bind(conn, _SENT_COUNTED, values))
    return [(row["channel"], int(row["messages"]), int(row["segments"])) for row in rows]
