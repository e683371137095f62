"""Where every waiting appointment stands in its line, cached per process.

A STATUS tells each customer how many wait ahead and for how long: counting that in
SQL walks the line's index up to the customer, hundreds of entries on a busy morning,
for every text. Lines change far less often than customers ask, so a line that was
read twice at the same version is ranked whole once, and later questions about it are
answered from memory for as long as its version (core.services.line_pages explains why
a matching version means an unchanged line) stays the same.

A line that changes between every two questions is never ranked whole: each question
then costs the count it cost before, plus a small marker here.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from core.rules.estimate import Basis
from core.rules.queue_spot import Spot
from core.services import line_order, lines, sql
from core.services.statements import bind

LineKey = tuple[int, date]
# One chair, no history, no delay: the booked minutes ahead.
_PLAIN = Basis()

# The version and the waiting line in one statement, so both come from one snapshot.
_LINE = f"""
SELECT v.version, a.id, a.duration_minutes
FROM (SELECT COALESCE(SUM(n), 0) AS version FROM line_versions
      WHERE service_account_id = {{account}} AND day = {{day}}) v
LEFT JOIN appointments a
  ON a.service_account_id = {{account}} AND a.day = {{day}} AND {line_order.waiting("a")}
ORDER BY {line_order.order_by("a")}
"""  # noqa: S608 - built from constants only; values are bound parameters


@dataclass(frozen=True, slots=True)
class Ranking:
    """One line's waiting appointments at one version, in compact arrays: a long line
    costs about 24 bytes an appointment."""

    version: int
    # Appointment ids in ascending order, and the place in line of each (0 = first).
    ids: array[int]
    places: array[int]
    # Minutes booked by everyone ahead of each place.
    waits: array[int]

    @classmethod
    def of(cls, version: int, line: Sequence[tuple[int, int]]) -> Ranking:
        """`line` is (appointment id, minutes) for each waiting appointment, best first."""
        waits = array("q")
        total = 0
        for _, minutes in line:
            waits.append(total)
            total += minutes
        by_id = sorted(range(len(line)), key=lambda place: line[place][0])
        return cls(
            version=version,
            ids=array("q", (line[place][0] for place in by_id)),
            places=array("q", by_id),
            waits=waits,
        )

    def spot(self, appointment_id: int, *, basis: Basis = _PLAIN) -> Spot | None:
        """Where the appointment waits, its wait reckoned on `basis`; None if it is not
        waiting in this line."""
        i = bisect_left(self.ids, appointment_id)
        if i == len(self.ids) or self.ids[i] != appointment_id:
            return None
        place = self.places[i]
        return basis.spot(ahead=place, booked_minutes=self.waits[place])

    def __len__(self) -> int:
        return len(self.ids)


class RankCache:
    """Rankings of recently asked-about lines, least recently used dropped first.

    One per application and database, created by the application: versions start at 0
    in every database, so two databases must never share a cache.

    Bounded by appointments held, not by lines, so a few very long lines cannot grow
    a process without limit. A line read once at a version keeps only that version,
    to recognise a second read of the same line at rest.
    """

    def __init__(self, *, max_appointments: int = 200_000, max_lines: int = 4_096) -> None:
        self.max_appointments = max_appointments
        self.max_lines = max_lines
        self.hits = 0
        self.loads = 0
        self._lines: OrderedDict[LineKey, Ranking | int] = OrderedDict()
        self._held = 0

    def get(self, key: LineKey, version: int) -> Ranking | None:
        entry = self._lines.get(key)
        if isinstance(entry, Ranking) and entry.version == version:
            self._lines.move_to_end(key)
            self.hits += 1
            return entry
        return None

    def quiet(self, key: LineKey, version: int) -> bool:
        """Note a read of the line at `version` that `get` could not answer. True when
        the line's previous read saw the same version: it is at rest, worth ranking."""
        entry = self._lines.get(key)
        previous = entry.version if isinstance(entry, Ranking) else entry
        if previous == version:
            return True
        self._set(key, version)
        return False

    def put(self, key: LineKey, ranking: Ranking) -> None:
        self.loads += 1
        self._set(key, ranking)

    def _set(self, key: LineKey, entry: Ranking | int) -> None:
        old = self._lines.pop(key, None)
        if isinstance(old, Ranking):
            self._held -= len(old)
        self._lines[key] = entry
        if isinstance(entry, Ranking):
            self._held += len(entry)
        while len(self._lines) > 1 and (
            self._held > self.max_appointments or len(self._lines) > self.max_lines
        ):
            _, dropped = self._lines.popitem(last=False)
            if isinstance(dropped, Ranking):
                self._held -= len(dropped)

    @property
    def appointments_held(self) -> int:
        return self._held

    def __len__(self) -> int:
        return len(self._lines)


async def load(conn: BaseDBAsyncClient, *, account_id: int, day: date) -> Ranking:
    """The line's waiting appointments, ranked, with the version they were read at."""
    query, args = bind(conn, _LINE, {"account": account_id, "day": sql.day_param(conn, day)})
    _, rows = await conn.execute_query(query, args)
    line = [(row["id"], row["duration_minutes"]) for row in rows if row["id"] is not None]
    return Ranking.of(int(rows[0]["version"]), line)


async def spot(
    conn: BaseDBAsyncClient,
    *,
    ranks: RankCache | None,
    account_id: int,
    day: date,
    version: int,
    appointment_id: int,
    basis: Basis,
    now: datetime,
) -> Spot | None:
    """Where a waiting appointment stands, its line seen at `version` by the caller
    and its wait reckoned on `basis` as the caller read it (lines.spot reads its own).

    From `ranks` when the line is unchanged or at rest, else (and always without
    `ranks`) by counting in SQL. None when the appointment no longer waits (called or
    gone since `version` was read).
    """
    key = (account_id, day)
    ranking = None if ranks is None else ranks.get(key, version)
    if ranks is not None and ranking is None and ranks.quiet(key, version):
        ranking = await load(conn, account_id=account_id, day=day)
        ranks.put(key, ranking)
    if ranking is not None:
        found = ranking.spot(appointment_id, basis=basis)
        if found is not None:
            return found
    return await lines.spot(appointment_id=appointment_id, now=now)
