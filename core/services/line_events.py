"""Which lines a unit of work changed, for whoever tells the screens once it commits.

A service that changes a line (a booking, a call, a status change, a move, a confirm,
a CLOSE or a DELAY) calls `changed(account_id, day)`; it costs no statement. An entry
point (the inbox, the admin API, the grace worker, the pages) opens `collecting()`
around its work and, after the work has committed, hands the lines gathered to its
publisher (webhooks.live.LineHub.publish: the process's own pages at once, and on
PostgreSQL every process by NOTIFY). Where nothing collects, `changed` does nothing;
the hub's version poll still sees every change within its interval.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import date

Line = tuple[int, date]
# What an entry point hands the lines to once its work has committed.
Publish = Callable[[Iterable[Line]], None]

_CHANGED: ContextVar[set[Line] | None] = ContextVar("lines_changed", default=None)


def changed(account_id: int, day: date) -> None:
    """Note that the line of `account_id` on `day` changed in the work under way."""
    lines = _CHANGED.get()
    if lines is not None:
        lines.add((account_id, day))


@contextlib.contextmanager
def collecting(publish: Publish | None) -> Iterator[set[Line]]:
    """Gather the lines the block changes; publish them when it ends (its transactions
    have ended by then). Also when it raised: a handler's redirect is an exception, and
    a line noted by a transaction that rolled back costs a watcher one needless read.
    Nested blocks gather for the outer one."""
    outer = _CHANGED.get()
    if outer is not None:
        yield outer
        return
    lines: set[Line] = set()
    token = _CHANGED.set(lines)
    try:
        yield lines
    finally:
        _CHANGED.reset(token)
        if lines and publish is not None:
            publish(lines)
