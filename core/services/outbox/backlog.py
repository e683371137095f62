"""What waits in the outbox, per channel: read when metrics are scraped, never on a hot path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models import OutboxStatus
from core.services import sql

# One statement over the pending rows only (the (status, next_attempt_at) index finds
# them); a healthy outbox holds few.
_PENDING = """
SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest
FROM outbox WHERE status = {status}
GROUP BY channel
"""


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    # Seconds since the oldest pending message was written.
    oldest_age: float


async def pending_by_channel(*, now: datetime) -> dict[str, Backlog]:
    """Pending messages (due or waiting for a retry) per channel that has any."""
    conn = sql.connection()
    [mark] = sql.params(conn, 1)
    rows = await conn.execute_query_dict(
        _PENDING.format(status=mark), [OutboxStatus.PENDING.value]
    )
    return {
        str(row["channel"]): Backlog(
            pending=int(row["n"]),
            oldest_age=max(0.0, (now - sql.as_datetime(row["oldest"])).total_seconds()),
        )
        for row in rows
    }
