"""Creates that run once per idempotency key: a retry gets the first answer again.

`create_once` runs a create and records its answer under (scope, key) in the same
transaction, so a commit whose answer never reached the client is found by the retry.
The create must do all its writes through the default connection (the ORM, or
core.services.sql.connection()): inside the transaction both return its connection.

Only a create that committed is remembered: one that was refused (a domain error) or
failed rolled back its record with everything else, so sending it again, with the same
key or another, is safe and gets the answer of the moment.

While a request holds a key, another with the same key gets InProgress at once rather
than waiting: on PostgreSQL the first holds a transaction-scoped advisory lock on the
key (every process and host sees it); SQLite, with one connection per process whose
transactions queue behind each other, keeps a registry of the keys running here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import InProgress, InvalidInput
from core.models import IdempotencyRecord
from core.rules.days import utcnow
from core.rules.idempotency import HEADER, expired_before, is_expired
from core.services import sql

# What a create gives back to be remembered: a status and the body of its answer.
Outcome = tuple[int, str]

# Expired records are deleted by a keyed create at most this often per process.
PURGE_INTERVAL = 600.0
_last_purge: float | None = None

# SQLite only: the (scope, key) pairs whose first request is running in this process.
_running: set[tuple[str, str]] = set()

_IN_PROGRESS = f"A request with this {HEADER} is still in progress; retry shortly"
_OTHER_BODY = f"This {HEADER} was already used with another request body"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    # True when this is the remembered answer of an earlier request.
    replayed: bool


async def create_once(
    *,
    scope: str,
    key: str,
    request_hash: str,
    create: Callable[[], Awaitable[Outcome]],
    now: datetime | None = None,
) -> Answer:
    """Run `create` unless (scope, key) already has an answer; return the answer.

    Raises InvalidInput if the key was used with another body (another request_hash)
    within its lifetime, InProgress if a request with the key is running right now,
    and whatever `create` raises (nothing is then remembered)."""
    now = now or utcnow()
    if sql.connection().capabilities.dialect == "postgres":
        await _purge_now_and_then(now)
        return await _create_once(scope, key, request_hash, create, now)
    # Checked before any query: on SQLite a query waits for the running transaction.
    if (scope, key) in _running:
        raise InProgress(_IN_PROGRESS)
    _running.add((scope, key))
    try:
        await _purge_now_and_then(now)
        return await _create_once(scope, key, request_hash, create, now)
    finally:
        _running.discard((scope, key))


async def _create_once(
    scope: str,
    key: str,
    request_hash: str,
    create: Callable[[], Awaitable[Outcome]],
    now: datetime,
) -> Answer:
    async with in_transaction("default") as conn:
        if not await _locked(conn, scope, key):
            raise InProgress(_IN_PROGRESS)
        found = await IdempotencyRecord.get_or_none(scope=scope, key=key, using_db=conn)
        if found is not None:
            if not is_expired(created_at=found.created_at, now=now):
                return _remembered(found, request_hash)
            await IdempotencyRecord.filter(id=found.id).using_db(conn).delete()
        try:
            # Running (status null) until the create's answer is written below.
            record = await IdempotencyRecord.create(
                scope=scope, key=key, request_hash=request_hash, created_at=now, using_db=conn
            )
        except IntegrityError as exc:
            # Another process got there first without a lock to tell (SQLite).
            raise InProgress(_IN_PROGRESS) from exc
        status, body = await create()
        await IdempotencyRecord.filter(id=record.id).using_db(conn).update(
            status=status, body=body
        )
    return Answer(status=status, body=body, replayed=False)


def _remembered(found: IdempotencyRecord, request_hash: str) -> Answer:
    if found.request_hash != request_hash:
        raise InvalidInput(_OTHER_BODY)
    if found.status is None or found.body is None:
        raise InProgress(_IN_PROGRESS)
    return Answer(status=found.status, body=found.body, replayed=True)


async def _locked(conn: BaseDBAsyncClient, scope: str, key: str) -> bool:
    """Take the key's lock for this transaction, without waiting; False if another
    transaction holds it. Without such locks (SQLite) the registry in create_once and
    the transaction's own exclusivity stand in."""
    if conn.capabilities.dialect != "postgres":
        return True
    # Two 32-bit hashes: a collision of both only makes a request wait for a retry.
    _, rows = await conn.execute_query(
        "SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS got", [scope, key]
    )
    return bool(rows[0]["got"])


async def purge_expired(*, now: datetime | None = None) -> int:
    """Delete the records past their lifetime; return how many."""
    cutoff = expired_before(now or utcnow())
    deleted: int = await IdempotencyRecord.filter(created_at__lte=cutoff).delete()
    return deleted


async def _purge_now_and_then(now: datetime) -> None:
    """Keep the table small at no cost to creates sent without a key: only keyed
    creates purge, and at most once per PURGE_INTERVAL in a process."""
    global _last_purge
    clock = time.monotonic()
    if _last_purge is not None and clock - _last_purge < PURGE_INTERVAL:
        return
    _last_purge = clock
    await purge_expired(now=now)
