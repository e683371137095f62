"""Queue pages cached per process, checked against the line's version in the database.

A line is one provider's appointments on one day. Triggers (migration 0008) add 1 to
one of the line's `line_versions` counters in the transaction of every change to it:
an appointment inserted, updated or deleted (cascaded deletes included) and a phone
change of a user waiting in it. The version is the sum of the counters.

Why a cached page is current when the version matches, in any number of processes:
increments only ever add, so a later snapshot that shows the same sum has seen no new
committed change to the line. The version is read in a statement *before* the page
statement, so a page cached under version v is at least as new as v: a change that
commits between the two statements makes the page newer than v, and the next read
sees a larger sum and renders again (a wasted render, never a stale page). The cache
also keeps the provider's id, so a phone that now belongs to another provider misses.

An empty line with no counters has version 0 and is cached like any other: no change
to it has committed since the triggers exist, and the first one makes the sum 1.
Writes that bypass row triggers (TRUNCATE, disabled triggers) are not seen; the
application issues none.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date

from core import metrics
from core.errors import NotFound
from core.services import sql

_VERSION = """
SELECT sa.id, COALESCE(SUM(lv.n), 0) AS version
FROM service_accounts sa
LEFT JOIN line_versions lv ON lv.service_account_id = sa.id AND lv.day = {day}
WHERE sa.phone = {phone}
GROUP BY sa.id
"""


@dataclass(frozen=True, slots=True)
class LineStamp:
    account_id: int
    version: int


async def version_of(*, service_account_phone: str, day: date) -> LineStamp | None:
    """The provider's id and its line's version on `day`; None for an unknown phone."""
    conn = sql.connection()
    day_mark, phone_mark = sql.params(conn, 2)
    rows = await conn.execute_query_dict(
        _VERSION.format(day=day_mark, phone=phone_mark),
        [sql.day_param(conn, day), service_account_phone],
    )
    if not rows:
        return None
    return LineStamp(account_id=rows[0]["id"], version=int(rows[0]["version"]))


class PageCache:
    """The most recently used rendered pages of one database, each with its line's version.

    One per application (per database): versions start at 0 on every database, so
    pages must never be shared between databases.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._pages: OrderedDict[Hashable, tuple[LineStamp, bytes]] = OrderedDict()

    def get(self, key: Hashable, line: LineStamp) -> bytes | None:
        entry = self._pages.get(key)
        if entry is None or entry[0] != line:
            self.misses += 1
            metrics.queue_page_cache_misses.inc()
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        metrics.queue_page_cache_hits.inc()
        return entry[1]

    def put(self, key: Hashable, line: LineStamp, page: bytes) -> None:
        self._pages[key] = (line, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.capacity:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


async def read_through(
    cache: PageCache,
    *,
    service_account_phone: str,
    day: date,
    key: Hashable,
    render: Callable[[], Awaitable[bytes]],
) -> bytes:
    """The page under `key` from the cache when its line is unchanged, else `render()`.

    A hit costs one small statement; an unknown provider is the same 404 as uncached.
    """
    line = await version_of(service_account_phone=service_account_phone, day=day)
    if line is None:
        raise NotFound("Service account not found")
    page = cache.get(key, line)
    if page is None:
        page = await render()
        cache.put(key, line, page)
    return page
