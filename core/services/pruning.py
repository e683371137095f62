"""Deleting what is past retention (core.rules.retention), in batches.

Every statement deletes at most `batch` rows, found through an index on the age it
tests (migration 0022), and commits on its own: a prune of millions of rows holds no
lock for long and leaves the hot paths their speed. Messages are counted
(core.services.message_counts) in the transaction that deletes them.

Between batches the prune pauses `Pacing.ratio` times as long as the batch took
(PRUNE_PAUSE_RATIO): it then works at most 1 / (1 + ratio) of the time, and the
bookings' commits do not queue behind a stream of its deletions' WAL.

The small tables keyed by phone (flood-limit rates, dialogues) are walked by id in
windows of `batch`: an index on their time column would turn every message's update
of the row into one that rewrites the index.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.models import PruneRun
from core.rules import retention
from core.rules.days import utcnow
from core.services import message_counts, sql
from core.services.statements import bind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Step:
    """One table's prune: `select` finds up to {limit} ids past retention."""

    name: str
    table: str
    select: str
    cutoff: Callable[[retention.Cutoffs], Any]
    # "in" / "out": the rows are messages, counted before they go.
    direction: str | None = None
    # Walked by id windows instead of an index on the age (see the module's docstring).
    by_window: bool = False


_STEPS = (
    _Step(
        "inbound_messages",
        "inbound_messages",
        "SELECT id FROM inbound_messages WHERE received_on < {cutoff} LIMIT {limit}",
        lambda c: c.inbound_before,
        direction="in",
    ),
    _Step(
        "outbox",
        "outbox",
        "SELECT id FROM outbox WHERE created_at < {cutoff} "
        "AND status IN ('sent', 'failed', 'skipped') LIMIT {limit}",
        lambda c: c.outbox_before,
        direction="out",
    ),
    _Step(
        "inbound_rates",
        "inbound_rates",
        "SELECT id FROM inbound_rates WHERE id > {low} AND id <= {high} "
        "AND window_start < {cutoff}",
        lambda c: c.rates_before,
        by_window=True,
    ),
    _Step(
        "conversations",
        "conversations",
        "SELECT id FROM conversations WHERE id > {low} AND id <= {high} AND expires_at < {cutoff}",
        lambda c: c.dialogues_before,
        by_window=True,
    ),
    _Step(
        "undo_snapshots",
        "undo_snapshots",
        "SELECT id FROM undo_snapshots WHERE taken_at < {cutoff} LIMIT {limit}",
        lambda c: c.undo_before,
    ),
    _Step(
        "grace_timers",
        "grace_timers",
        "SELECT id FROM grace_timers WHERE fired_at IS NOT NULL AND fired_at < {cutoff} "
        "LIMIT {limit}",
        lambda c: c.timers_fired_before,
    ),
    _Step(
        "status_links",
        "status_links",
        "SELECT id FROM status_links WHERE day < {cutoff} LIMIT {limit}",
        lambda c: c.links_before,
    ),
    _Step(
        "console_codes",
        "console_codes",
        "SELECT id FROM console_codes WHERE created_at < {cutoff} LIMIT {limit}",
        lambda c: c.codes_before,
    ),
    _Step(
        "console_sessions",
        "console_sessions",
        "SELECT id FROM console_sessions WHERE expires_at < {cutoff} LIMIT {limit}",
        lambda c: c.sessions_before,
    ),
    _Step(
        "idempotency_records",
        "idempotency_records",
        "SELECT id FROM idempotency_records WHERE created_at <= {cutoff} LIMIT {limit}",
        lambda c: c.idempotency_before,
    ),
)

STEP_NAMES = tuple(step.name for step in _STEPS)


def _param(conn: BaseDBAsyncClient, value: Any) -> Any:
    if isinstance(value, datetime):
        return sql.datetime_param(conn, value)
    return sql.day_param(conn, value)


async def _delete_batch(conn: BaseDBAsyncClient, step: _Step, ids: list[int]) -> None:
    async with in_transaction("default") as tx:
        if step.direction == "in":
            await message_counts.count_inbound(tx, ids)
        elif step.direction == "out":
            await message_counts.count_outbox(tx, ids)
        delete = f"DELETE FROM {step.table} WHERE id IN ({message_counts.ids_list(tx)})"  # noqa: S608
        await tx.execute_query(*bind(tx, delete, {"ids": message_counts.ids_param(tx, ids)}))


Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Pacing:
    """After each batch, a pause of `ratio` times the batch's own time (0: none)."""

    ratio: float = 0.0
    sleep: Sleep = asyncio.sleep

    async def after(self, began: float) -> None:
        if self.ratio > 0:
            await self.sleep((time.monotonic() - began) * self.ratio)


NO_PAUSE = Pacing()


@dataclass(slots=True)
class Swept:
    """What a prune did to one table: rows deleted, in how many DELETE statements."""

    rows: int = 0
    statements: int = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows += len(rows)
        self.statements += 1


async def _prune_step(
    conn: BaseDBAsyncClient, step: _Step, cutoffs: retention.Cutoffs, batch: int, pacing: Pacing
) -> Swept:
    cutoff = _param(conn, step.cutoff(cutoffs))
    swept = Swept()
    if step.by_window:
        top = await conn.execute_query_dict(f"SELECT MAX(id) AS top FROM {step.table}")  # noqa: S608
        high_water = top[0]["top"] or 0
        low = 0
        while low < high_water:
            began = time.monotonic()
            values = {"low": low, "high": low + batch, "cutoff": cutoff}
            rows = await conn.execute_query_dict(*bind(conn, step.select, values))
            if rows:
                await _delete_batch(conn, step, [row["id"] for row in rows])
                swept.add(rows)
                await pacing.after(began)
            low += batch
        return swept
    while True:
        began = time.monotonic()
        rows = await conn.execute_query_dict(
            *bind(conn, step.select, {"cutoff": cutoff, "limit": batch})
        )
        if rows:
            await _delete_batch(conn, step, [row["id"] for row in rows])
            swept.add(rows)
        if len(rows) < batch:
            return swept
        await pacing.after(began)


async def prune(
    *,
    keep: retention.Retention,
    now: datetime | None = None,
    batch: int = retention.BATCH_ROWS,
    pacing: Pacing = NO_PAUSE,
) -> dict[str, Swept]:
    """Delete every row past retention at `now`, pausing after each batch as `pacing`
    says; return what went from each table.

    Records the run in `prune_runs`. Run by one process at a time (core.services.prune_worker
    elects it on PostgreSQL); two at once would only count some messages twice.
    """
    if not 0 < batch <= retention.BATCH_ROWS:
        raise ValueError(f"batch must be 1..{retention.BATCH_ROWS}")
    moment = now or utcnow()
    run = await PruneRun.create(started_at=utcnow())
    cutoffs = retention.cutoffs(moment, keep)
    conn = sql.connection()
    swept: dict[str, Swept] = {}
    for step in _STEPS:
        swept[step.name] = await _prune_step(conn, step, cutoffs, batch, pacing)
    run.finished_at = utcnow()
    run.deleted = {name: table.rows for name, table in swept.items()}
    await run.save(update_fields=["finished_at", "deleted"])
    log.info("prune: %s", report(swept))
    return swept


def report(swept: dict[str, Swept]) -> str:
    """One line: the rows each table lost, and in how many statements."""
    return ", ".join(
        f"{name} {table.rows} rows ({table.statements} statements)" for name, table in swept.items()
    )
