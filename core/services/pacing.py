"""Send turns shared by every process and host: the budget kept in PostgreSQL.

Each limit (a sending number, a Telegram bot, one of its chats) is a row holding the
time its next turn is free, on the database server's clock. Taking a turn is one
conditional upsert: the row moves one interval past max(its time, now) only when that
turn starts within `max_wait`, and the statement returns how long to wait for it. Turns
are spaced evenly (no burst allowance), so any one-second window holds at most
rate + 1 turn starts however many processes take them.

SQLite has one server process: the channels' pacers keep the turns in memory there
(core.rules.pacing), and `shared()` says which path applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.services import sql
from core.services.outbox.transport import HandBack

# Times are seconds since the epoch on the database server's clock, read once per
# statement: extract(epoch FROM statement_timestamp()).

# $1 key, $2 interval, $3 max_wait. The WHERE leaves the row alone when its turn is too
# far off; a new key's first turn is now.
_TAKE = """
INSERT INTO pacing_slots AS p (key, free_at) VALUES ($1, extract(epoch FROM statement_timestamp()) + $2)
ON CONFLICT (key) DO UPDATE SET free_at = GREATEST(p.free_at, extract(epoch FROM statement_timestamp())) + $2
WHERE p.free_at - extract(epoch FROM statement_timestamp()) <= $3
RETURNING p.free_at - $2 - extract(epoch FROM statement_timestamp()) AS wait
"""

# A turn under an outer limit ($1, $2) and then, not before it, under an inner one
# ($3, $4): a Telegram bot's overall rate, then the chat's. The send starts at the
# inner turn, so the inner limit's spacing is exact. An outer turn taken for an inner
# one that is then too far off stays taken: a gap in the outer limit, never an excess.
_TAKE_NESTED = """
WITH outer_turn AS (
    INSERT INTO pacing_slots AS p (key, free_at) VALUES ($1, extract(epoch FROM statement_timestamp()) + $2)
    ON CONFLICT (key) DO UPDATE SET free_at = GREATEST(p.free_at, extract(epoch FROM statement_timestamp())) + $2
    WHERE p.free_at - extract(epoch FROM statement_timestamp()) <= $5
    RETURNING p.free_at - $2 AS slot
)
INSERT INTO pacing_slots AS p (key, free_at) SELECT $3, slot + $4 FROM outer_turn
ON CONFLICT (key) DO UPDATE SET free_at = GREATEST(p.free_at, excluded.free_at - $4) + $4
WHERE GREATEST(p.free_at, excluded.free_at - $4) - extract(epoch FROM statement_timestamp()) <= $5
RETURNING p.free_at - $4 - extract(epoch FROM statement_timestamp()) AS wait
"""

_FREE_IN = "SELECT max(free_at) - extract(epoch FROM statement_timestamp()) AS wait FROM pacing_slots WHERE key = ANY($1)"

_HOLD = """
INSERT INTO pacing_slots AS p (key, free_at) VALUES ($1, extract(epoch FROM statement_timestamp()) + $2)
ON CONFLICT (key) DO UPDATE SET free_at = GREATEST(p.free_at, excluded.free_at)
"""

_FORGET = "DELETE FROM pacing_slots WHERE free_at < extract(epoch FROM statement_timestamp()) - $1"


@dataclass(frozen=True)
class Limit:
    """One limit's key and the least time between two of its turns, in seconds."""

    key: str
    interval: float


@dataclass(frozen=True)
class Turn:
    """`taken`: the turn is ours and starts `wait` seconds from now. Otherwise nothing
    was taken and the next turn is free in `wait` seconds."""

    taken: bool
    wait: float


def shared() -> bool:
    """Whether turns are kept in the database (PostgreSQL), not in this process."""
    return sql.connection().capabilities.dialect == "postgres"


async def take_turn(*, limit: Limit, within: Limit | None = None, max_wait: float) -> Turn:
    """Take the next turn under `limit` (and, when given, under `within` after it, not
    before), unless it starts more than `max_wait` seconds from now. PostgreSQL only."""
    conn = sql.connection()
    if within is None:
        rows = await conn.execute_query_dict(
            _TAKE, [limit.key, limit.interval, max_wait]
        )
    else:
        rows = await conn.execute_query_dict(
            _TAKE_NESTED, [limit.key, limit.interval, within.key, within.interval, max_wait]
        )
    if rows:
        return Turn(taken=True, wait=max(float(rows[0]["wait"]), 0.0))
    keys = [limit.key] if within is None else [limit.key, within.key]
    free = await conn.execute_query_dict(_FREE_IN, [keys])
    wait = free[0]["wait"] if free else None
    return Turn(taken=False, wait=max(float(wait if wait is not None else 0.0), 0.0))


# A turn whose wait overran by more than a quarter of the interval (the process was
# stalled) would start beside the next turns; it is dropped for a fresh one, this many
# times. A quarter leaves the rest of an interval for the request's own way to the
# provider, so what the provider sees still holds no more than rate + 1 a second.
_RETAKES = 3


async def wait_for_turn(
    *,
    limit: Limit,
    within: Limit | None = None,
    max_wait: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    refusal: str,
) -> None:
    """Take a turn (as `take_turn`) and sleep until it starts; HandBack with `refusal`
    (nothing was sent, so no attempt is used) when it is more than `max_wait` off.

    Even spacing holds at the provider only if a send starts when its turn does: a
    process that wakes late (a busy machine) drops the turn, leaving a gap rather than
    two sends together, and takes the next one within what is left of `max_wait`.
    """
    tight = min(limit.interval, within.interval) if within else limit.interval
    deadline = clock() + max_wait
    for _ in range(_RETAKES):
        turn = await take_turn(limit=limit, within=within, max_wait=max(deadline - clock(), 0.0))
        if not turn.taken:
            raise HandBack(refusal, retry_after=turn.wait)
        # From when the answer came: the statement's own round trip is not lateness.
        starts = clock() + turn.wait
        if turn.wait > 0:
            await sleep(turn.wait)
        if clock() - starts <= tight / 4:
            return
    raise HandBack(refusal, retry_after=tight)


async def hold(*, key: str, seconds: float) -> None:
    """No turn under `key` starts sooner than `seconds` from now (a provider's 429)."""
    await sql.connection().execute_query(_HOLD, [key, max(seconds, 0.0)])


async def forget_passed(*, older_than: float = 60.0) -> int:
    """Delete the rows whose turn was free more than `older_than` seconds ago (a row
    per Telegram chat would otherwise stay forever); how many went."""
    count, _ = await sql.connection().execute_query(_FORGET, [older_than])
    return int(count)
