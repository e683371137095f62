"""A customer's status links: issuing one for a visit and reading the visit by it.

A link names one appointment and lasts until the end of that appointment's day where
the provider is; after that it shows nothing of the visit. The spot of a waiting visit
is the customer's standing, read as STATUS reads it (core.services.standings), so the
page and the text quote the same wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from core.models import ServiceAccount, Status
from core.rules import status_tokens
from core.rules.days import today_in, utcnow
from core.rules.estimate import Basis
from core.rules.queue_spot import Spot
from core.services import line_ranks, sql, standings, waits
from core.services.pending_links import Issued, deferred_to
from core.services.statements import bind


class State(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    LEFT = "left"
    NO_SHOW = "no_show"


_ENDED_STATES = {
    Status.COMPLETED.value: State.DONE,
    Status.CANCELED.value: State.LEFT,
    Status.NO_SHOW.value: State.NO_SHOW,
}


@dataclass(frozen=True, slots=True)
class Visit:
    """One appointment as its own customer sees it on the status page."""

    appointment_id: int
    account_id: int
    day: date
    # The provider's today (the page names the day as the texts do).
    today: date
    place_name: str
    state: State
    # While waiting: position, people ahead and the quoted wait; else None.
    spot: Spot | None
    # Called and said they are coming (HERE).
    confirmed: bool


class Ended:
    """A link whose day is over: the page shows nothing of the visit."""


ENDED = Ended()


_INSERT_LINK = """
INSERT INTO status_links (token_hash, appointment_id, day, created_at)
VALUES ({digest}, {appointment}, {day}, {at})
"""
async def issue(*, appointment_id: int, day: date, now: datetime | None = None) -> str:
    """A new link's raw token for `appointment_id` (booked for `day`, committed); only
    its digest is stored, and earlier links stay valid. Inside `pending_links.deferred`, the link is
    written with the block's batch after the answer; else now, on the deliveries
    connection (its PostgreSQL commits do not wait for the disk: a link lost to a crash
    costs a STATUS text)."""
    token = status_tokens.new_token()
    digest = status_tokens.digest(token)
    at = now or utcnow()
    pending = deferred_to()
    if pending is not None:
        pending.add(digest, Issued(appointment_id=appointment_id, day=day, at=at))
        return token
    conn = sql.deliveries()
    query, args = bind(
        conn,
        _INSERT_LINK,
        {
            "digest": digest,
            "appointment": appointment_id,
            "day": sql.day_param(conn, day),
            "at": sql.datetime_param(conn, at),
        },
    )
    await conn.execute_query(query, args)
    return token


@dataclass(frozen=True, slots=True)
class Link:
    """What a link names, which never changes: its appointment, and the line it was
    issued in (the provider and the day its validity ends with)."""

    appointment_id: int
    account_id: int
    day: date


def key_of(token: str) -> str | None:
    """The stored key (digest) of `token`; None for a token that cannot be one."""
    return status_tokens.digest(token) if status_tokens.well_formed(token) else None


_LINK = """
SELECT l.appointment_id, l.day, a.service_account_id
FROM status_links l JOIN appointments a ON a.id = l.appointment_id
WHERE l.token_hash = {digest}
"""


async def link(*, key: str) -> Link | None:
    """The link stored under `key` (see `key_of`), or None."""
    conn = sql.connection()
    query, args = bind(conn, _LINK, {"digest": key})
    rows = await conn.execute_query_dict(query, args)
    if not rows:
        return None
    row = rows[0]
    return Link(
        appointment_id=int(row["appointment_id"]),
        account_id=int(row["service_account_id"]),
        day=sql.as_date(row["day"]),
    )


_VISIT_BY_LINK = """
SELECT l.day AS l_day, a.id AS a_id, a.status AS a_status, a.called_at AS a_called_at,
       a.confirmed_at AS a_confirmed_at, p.id AS p_id, p.name AS p_name,
       p.timezone AS p_timezone, u.phone AS u_phone
FROM status_links l
JOIN appointments a ON a.id = l.appointment_id
JOIN service_accounts p ON p.id = a.service_account_id
JOIN users u ON u.id = a.user_id
WHERE l.token_hash = {digest}
"""


async def visit(
    *, token: str, now: datetime | None = None, ranks: line_ranks.RankCache | None = None
) -> Visit | Ended | None:
    """The visit `token` links to; ENDED after its day; None for no such link."""
    if not status_tokens.well_formed(token):
        return None
    return await _read(token, now=now or utcnow(), ranks=ranks, again=True)


async def _read(
    token: str, *, now: datetime, ranks: line_ranks.RankCache | None, again: bool
) -> Visit | Ended | None:
    conn = sql.connection()
    query, args = bind(conn, _VISIT_BY_LINK, {"digest": status_tokens.digest(token)})
    rows = await conn.execute_query_dict(query, args)
    if not rows:
        return None
    row = rows[0]
    day = sql.as_date(row["l_day"])
    today = today_in(row["p_timezone"], now=now)
    if day < today:
        return ENDED
    state = _ENDED_STATES.get(str(row["a_status"]))
    spot = None
    if state is None:
        state = State.CALLED if row["a_called_at"] is not None else State.WAITING
    if state is State.WAITING:
        mine = await standings.standings(user_phone=row["u_phone"], now=now, ranks=ranks)
        found = next((s for s in mine if s.appointment_id == row["a_id"]), None)
        if found is None and again:
            # It stopped waiting between the two reads: read it once more, as it is now.
            return await _read(token, now=now, ranks=ranks, again=False)
        if found is not None:
            spot = found.spot
            # Called between the two reads.
            state = State.WAITING if spot is not None else State.CALLED
    return Visit(
        appointment_id=int(row["a_id"]),
        account_id=int(row["p_id"]),
        day=day,
        today=today,
        place_name=str(row["p_name"]),
        state=state,
        spot=spot,
        confirmed=row["a_confirmed_at"] is not None,
    )


@dataclass(frozen=True, slots=True)
class LineSnapshot:
    """One line as every status page of it is shown after a change: read once per
    process for all of them (the live pages share it, see webhooks.pages.status)."""

    account_id: int
    day: date
    today: date
    place_name: str
    basis: Basis
    ranking: line_ranks.Ranking
    # Each appointment of the line's day: (status, called, confirmed).
    states: dict[int, tuple[str, bool, bool]]

    def visit(self, appointment_id: int) -> Visit | Ended | None:
        """The visit as its page shows it; ENDED after its day; None if not in the line."""
        if self.day < self.today:
            return ENDED
        found = self.states.get(appointment_id)
        if found is None:
            return None
        status, called, confirmed = found
        spot = None
        state = _ENDED_STATES.get(status)
        if state is None:
            spot = None if called else self.ranking.spot(appointment_id, basis=self.basis)
            # Not called and not ranked: it waits again since the ranking was read (an
            # undone call); the change that did it wakes the pages to read it again.
            state = State.CALLED if called else State.WAITING
        return Visit(
            appointment_id=appointment_id,
            account_id=self.account_id,
            day=self.day,
            today=self.today,
            place_name=self.place_name,
            state=state,
            spot=spot,
            confirmed=confirmed,
        )


_LINE_STATES = """
SELECT id, status, called_at IS NOT NULL AS called, confirmed_at IS NOT NULL AS confirmed
FROM appointments WHERE service_account_id = {account} AND day = {day}
"""


async def line_snapshot(
    *,
    account_id: int,
    day: date,
    now: datetime | None = None,
    ranks: line_ranks.RankCache | None = None,
) -> LineSnapshot | None:
    """The line of `account_id` on `day` for its status pages, in three statements
    however many pages show it (the provider, the ranking, each appointment's state);
    None when the provider is gone. The spots are the rankings STATUS reads."""
    now = now or utcnow()
    account = await ServiceAccount.get_or_none(id=account_id)
    if account is None:
        return None
    conn = sql.connection()
    ranking = await line_ranks.load(conn, account_id=account_id, day=day)
    if ranks is not None:
        ranks.put((account_id, day), ranking)
    query, args = bind(conn, _LINE_STATES, {"account": account_id, "day": sql.day_param(conn, day)})
    rows = await conn.execute_query_dict(query, args)
    return LineSnapshot(
        account_id=account_id,
        day=day,
        today=today_in(account.timezone, now=now),
        place_name=account.name,
        basis=waits.account_basis(account, day=day, now=now),
        ranking=ranking,
        states={
            int(r["id"]): (str(r["status"]), bool(r["called"]), bool(r["confirmed"])) for r in rows
        },
    )
