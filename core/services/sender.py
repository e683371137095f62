"""Who is writing, read in one statement when a message comes in.

Before it can answer, the conversation engine needs to know whether the phone is a
provider's, whether a dialogue with it is open on the channel, whether it belongs to a
registered customer, which channel it last wrote from (rewritten only on a change)
and, for STATUS and LEAVE, where that customer stands (see core.services.standings). One query answers all of it: one row per standing, or one
row with no standing, each carrying the provider account and the dialogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models import Channel, ServiceAccount
from core.services import conversations, sql
from core.services.standings import (
    STANDING_COLUMNS,
    STANDINGS_CTES,
    Standing,
    since_param,
    standings_from,
)
from core.services.statements import bind


@dataclass(frozen=True, slots=True)
class Sender:
    # The provider account whose phone this is; a provider is never treated as a customer.
    account: ServiceAccount | None
    # The dialogue open with this phone on the channel (an expired one is none).
    dialogue: conversations.Dialogue | None
    registered: bool
    # The channel the phone last wrote from, as recorded (contacts.record_channel).
    preferred_channel: str | None
    # The customer's standings when asked for (`with_standings`), else None.
    standings: list[Standing] | None


_ACCOUNT_COLUMNS = tuple(sorted(ServiceAccount._meta.db_fields))

_WHO = """
SELECT {account}, u.id AS user_id, ct.preferred_channel,
       c.id AS c_id, c.state AS c_state, c.data AS c_data, c.expires_at AS c_expires_at
       {standing}
FROM (SELECT 1 AS one) me
LEFT JOIN service_accounts sa ON sa.phone = {{phone}}
LEFT JOIN conversations c ON c.channel = {{channel}} AND c.phone = {{phone}}
LEFT JOIN users u ON u.phone = {{phone}}
LEFT JOIN contacts ct ON ct.phone = {{phone}}
"""

_ACCOUNT = ", ".join(f"sa.{column} AS sa_{column}" for column in _ACCOUNT_COLUMNS)
_WHO_ALONE = _WHO.format(account=_ACCOUNT, standing="")
_WHO_WITH_STANDINGS = (
    f"WITH {STANDINGS_CTES}\n"
    + _WHO.format(account=_ACCOUNT, standing=", " + STANDING_COLUMNS)
    + "LEFT JOIN standings s ON 1 = 1\nORDER BY s.day, s.created_at, s.id\n"
)


async def identify(
    *, channel: Channel, phone: str, now: datetime, with_standings: bool
) -> Sender:
    conn = sql.connection()
    values = {"phone": phone, "channel": channel.value}
    if with_standings:
        values["since"] = since_param(conn, now)
    query, args = bind(conn, _WHO_WITH_STANDINGS if with_standings else _WHO_ALONE, values)
    rows = await conn.execute_query_dict(query, args)
    first = rows[0]
    account = None
    if first["sa_id"] is not None:
        account = ServiceAccount._init_from_db(
            **{column: first[f"sa_{column}"] for column in _ACCOUNT_COLUMNS}
        )
    dialogue = None
    if first["c_id"] is not None:
        dialogue = await conversations.from_stored(
            conversation_id=first["c_id"],
            state=first["c_state"],
            data=first["c_data"],
            expires_at=first["c_expires_at"],
            now=now,
        )
    return Sender(
        account=account,
        dialogue=dialogue,
        registered=first["user_id"] is not None,
        preferred_channel=first["preferred_channel"],
        standings=standings_from(rows, now) if with_standings else None,
    )
