"""Who is writing in, read in one statement when a message comes in.

Before it can answer, the conversation engine needs to know whether the phone is a
provider's, whether a dialogue with it is open on the channel, whether it belongs to a
registered customer, which channel it last wrote from (rewritten only on a change)
and, for STATUS and LEAVE, where that customer stands (see core.services.standings).
One query answers all of it: one row per standing, or one row with no standing, each
carrying the provider account and the dialogue. The inbound path (bot.inbox) reads it
in the same statement that records the delivery (core.services.deliveries.record_and_identify).

A channel that draws menus (Telegram's buttons) also asks whether the customer is in
any line (`with_in_line`): when standings are not read, the statement then joins the
customer's active appointments, without their spots (core.services.standings.ACTIVE_CTES).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Channel, ServiceAccount
from core.services import conversations, sql
from core.services.line_ranks import RankCache
from core.services.standings import (
    ACTIVE_COLUMNS,
    ACTIVE_CTES,
    STANDING_COLUMNS,
    STANDINGS_CTES,
    STANDINGS_ORDER,
    Standing,
    in_line_from,
    since_param,
    standings_from,
)
from core.services.statements import bind


@dataclass(frozen=True, slots=True)
class Correspondent:
    """Who is writing in, as of one moment."""

    # The provider account whose phone (or staff phone) this is. Its texts are the provider's, except
    # customer commands from a phone also registered as a customer (commands.read_as).
    account: ServiceAccount | None
    # The dialogue open with this phone on the channel (an expired one is none).
    dialogue: conversations.Dialogue | None
    registered: bool
    # The channel the phone last wrote from, as recorded (contacts.record_channel).
    preferred_channel: str | None
    # The customer's standings when asked for (`with_standings`), else None.
    standings: list[Standing] | None
    # Whether the customer is in any line, when standings or `with_in_line` tell; else None.
    in_line: bool | None
    # Whether one of those lines has called them and awaits their HERE (when in_line tells).
    awaited: bool = False
    # The language the phone is written in, as recorded (contacts.record_language); None:
    # its texts have not told it yet.
    language: str | None = None

    def with_standings(self, standings: list[Standing]) -> Correspondent:
        return replace(
            self,
            standings=standings,
            in_line=bool(standings),
            awaited=any(s.awaited for s in standings),
        )

    def now_registered(self) -> Correspondent:
        return replace(self, registered=True)


_ACCOUNT_COLUMNS = tuple(sorted(ServiceAccount._meta.db_fields))
_ACCOUNT = ", ".join(f"sa.{column} AS sa_{column}" for column in _ACCOUNT_COLUMNS)
ALONE = "(SELECT 1 AS one) me"


@cache
def who_statement(
    *,
    with_standings: bool,
    with_in_line: bool = False,
    ctes: str = "",
    source: str = ALONE,
    columns: str = "",
) -> str:
    """The statement reading who writes from {phone} on {channel} (and {since}, with
    standings or in_line): one row per standing (or active appointment), or one row
    with none.

    Another statement can read who is writing in the same round trip: `ctes` are its
    own common table expressions (each followed by a comma), `source` the one-row
    relation the read hangs off (no row: nothing is read) and `columns` its own.
    """
    # Standings tell whether the customer is in a line; the cheaper read is for without.
    active = with_in_line and not with_standings
    if with_standings:
        ctes += STANDINGS_CTES
    elif active:
        ctes += ACTIVE_CTES
    with_clause = f"WITH {ctes.rstrip().rstrip(',')}\n" if ctes.strip() else ""
    standing = f", {STANDING_COLUMNS}" if with_standings else ""
    if active:
        standing = f", {ACTIVE_COLUMNS}"
    extra = f", {columns}" if columns else ""
    joined = ""
    if with_standings:
        joined = f"LEFT JOIN standings s ON 1 = 1\n{STANDINGS_ORDER}\n"
    elif active:
        joined = "LEFT JOIN active ac ON 1 = 1\n"
    return (
        f"{with_clause}"  # noqa: S608 - built from constants only; values are bound
        f"SELECT {_ACCOUNT}, u.id AS user_id, ct.preferred_channel, ct.language AS ct_language,\n"
        "       c.id AS c_id, c.state AS c_state, c.data AS c_data, "
        f"c.expires_at AS c_expires_at{standing}{extra}\n"
        f"FROM {source}\n"
        # The provider whose phone this is, or whose staff phone it is (staff act
        # for their provider): two unique-index lookups.
        "LEFT JOIN service_accounts sa ON sa.id = COALESCE(\n"
        "  (SELECT id FROM service_accounts WHERE phone = {phone}),\n"
        "  (SELECT service_account_id FROM staff_phones WHERE phone = {phone}))\n"
        "LEFT JOIN conversations c ON c.channel = {channel} AND c.phone = {phone}\n"
        "LEFT JOIN users u ON u.phone = {phone}\n"
        "LEFT JOIN contacts ct ON ct.phone = {phone}\n" + joined
    )


def who_values(
    conn: BaseDBAsyncClient,
    *,
    channel: Channel,
    phone: str,
    now: datetime,
    with_standings: bool,
    with_in_line: bool = False,
) -> dict[str, Any]:
    values: dict[str, Any] = {"phone": phone, "channel": channel.value}
    if with_standings or with_in_line:
        values["since"] = since_param(conn, now)
    return values


async def identify(
    *,
    channel: Channel,
    phone: str,
    now: datetime,
    with_standings: bool,
    with_in_line: bool = False,
    ranks: RankCache | None = None,
) -> Correspondent:
    """Who writes from `phone` on `channel` as of `now`; `with_standings`: with where they
    stand (spots from `ranks` where it can answer, see standings.standings_from);
    `with_in_line`: with whether they are in any line (cheaper than standings)."""
    conn = sql.connection()
    values = who_values(
        conn,
        channel=channel,
        phone=phone,
        now=now,
        with_standings=with_standings,
        with_in_line=with_in_line,
    )
    statement = who_statement(with_standings=with_standings, with_in_line=with_in_line)
    query, args = bind(conn, statement, values)
    rows = await conn.execute_query_dict(query, args)
    return await correspondent_from(
        rows,
        phone=phone,
        now=now,
        with_standings=with_standings,
        with_in_line=with_in_line,
        ranks=ranks,
    )


async def correspondent_from(
    rows: list[dict[str, Any]],
    *,
    phone: str,
    now: datetime,
    with_standings: bool,
    with_in_line: bool = False,
    ranks: RankCache | None = None,
) -> Correspondent:
    """The Correspondent read by a who_statement (at least one row); spots from `ranks`
    where it can answer."""
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
    standings = None
    in_line = None
    awaited = False
    if with_standings:
        standings = await standings_from(rows, user_phone=phone, now=now, ranks=ranks)
        in_line = bool(standings)
        awaited = any(s.awaited for s in standings)
    elif with_in_line:
        in_line, awaited = in_line_from(rows, now=now)
    return Correspondent(
        account=account,
        dialogue=dialogue,
        registered=first["user_id"] is not None,
        preferred_channel=first["preferred_channel"],
        standings=standings,
        in_line=in_line,
        awaited=awaited,
        language=first["ct_language"],
    )
