"""When the database cannot be reached: the one rule for start-up, the pools and HTTP.

A lost or refused connection is an outage (the HTTP API answers 503, start-up retries);
anything else the database client raises stays what it is (a bug is a 500). The
distinction is made where the connection is known, in the connection class the
PostgreSQL pools open (`Connection`) and in the pools' connect hook (`connect`): a bare
OSError or ConnectionResetError elsewhere, such as a client hanging up mid-body, is
not the database's.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from tortoise.exceptions import DBConnectionError

# How long a connection that failed in a broken protocol state may take to show that the
# server closed it (a terminated session's FATAL message and its close arrive apart).
_CLOSE_GRACE_SECONDS = 1.0


class DatabaseUnavailable(Exception):
    """The database refused or dropped the connection, or did not answer in time."""


# Server-reported errors that mean "not now", whatever was being done: connection
# failures (class 08), the server shutting down, starting up or out of connection slots.
_SERVER_OUTAGES = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)

# Connecting: a socket error means nothing listens yet or the network is not up.
_TRANSIENT_ERRNOS = {
    "ECONNREFUSED",
    "ECONNRESET",
    "ECONNABORTED",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EHOSTDOWN",
    "ENETDOWN",
    "ENOENT",  # a Unix socket that the server has not created yet
    "ETIMEDOUT",
    "EPIPE",
}


def _is_transient_connect_error(exc: BaseException) -> bool:
    if isinstance(exc, socket.gaierror):
        return exc.errno == socket.EAI_AGAIN  # a name that does not exist will not appear
    if isinstance(exc, (TimeoutError, ConnectionError, *_SERVER_OUTAGES)):
        return True
    if isinstance(exc, OSError) and exc.errno is not None:
        import errno

        return errno.errorcode.get(exc.errno) in _TRANSIENT_ERRNOS
    return False


async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect for the pools (their `connect=` hook), with "cannot reach the
    server now" raised as DatabaseUnavailable; a refusal that waiting cannot fix (no
    such role or database, a wrong password) is raised as it is."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except Exception as exc:
        if _is_transient_connect_error(exc):
            raise DatabaseUnavailable(f"cannot connect: {describe(exc)}") from exc
        raise


@dataclass(slots=True)
class CommitWatch:
    """Whether anything may have been committed while the watch was on."""

    may_have_committed: bool = False


_WATCH: contextvars.ContextVar[CommitWatch | None] = contextvars.ContextVar(
    "commit_watch", default=None
)


@contextmanager
def watching_commits() -> Iterator[CommitWatch]:
    """Notes every statement that could have committed data, in this task and in the
    tasks it starts, until the block ends."""
    watch = CommitWatch()
    token = _WATCH.set(watch)
    try:
        yield watch
    finally:
        _WATCH.reset(token)


# Outside a transaction these statements commit nothing.
_READ_ONLY = ("SELECT", "BEGIN", "START TRANSACTION", "ROLLBACK", "SHOW")


def _may_commit(query: str, in_transaction: bool) -> bool:
    head = query.lstrip()[:20].upper()
    if in_transaction:
        return head.startswith(("COMMIT", "END"))
    return not head.startswith(_READ_ONLY)


class Connection(asyncpg.Connection):  # type: ignore[misc]
    """The connection class of the PostgreSQL pools (the statement methods Tortoise
    calls): connection loss raised as DatabaseUnavailable, and statements that may
    have committed noted on the current CommitWatch.

    A statement counts as possibly committed once it may have reached the server: it
    succeeded or its connection was lost on the way; one the server refused with an
    error, or that failed before it was sent, committed nothing.
    """

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run(query, super().execute(query, *args, **kwargs))

    async def executemany(self, command: str, args: Any, **kwargs: Any) -> Any:
        return await self._run(command, super().executemany(command, args, **kwargs))

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run(query, super().fetch(query, *args, **kwargs))

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run(query, super().fetchrow(query, *args, **kwargs))

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run(query, super().fetchval(query, *args, **kwargs))

    async def _run(self, query: str, call: Any) -> Any:
        watch = _WATCH.get()
        may_commit = watch is not None and _may_commit(query, self.is_in_transaction())
        try:
            result = await call
        except Exception as exc:
            lost = await self._loss(exc)
            if lost is None:
                raise
            # An InternalClientError comes from the protocol's state check, before sending.
            if (
                watch is not None
                and may_commit
                and not isinstance(exc, asyncpg.InternalClientError)
            ):
                watch.may_have_committed = True
            raise lost from exc
        if watch is not None and may_commit:
            watch.may_have_committed = True
        return result

    async def _loss(self, exc: Exception) -> DatabaseUnavailable | None:
        """DatabaseUnavailable if `exc` means this connection is gone, else None."""
        if isinstance(exc, (*_SERVER_OUTAGES, OSError)):
            return DatabaseUnavailable(f"connection lost: {describe(exc)}")
        if isinstance(exc, TimeoutError):  # command_timeout: the server did not answer
            return DatabaseUnavailable(f"no answer in time: {describe(exc)}")
        if isinstance(exc, asyncpg.InterfaceError) and self.is_closed():
            return DatabaseUnavailable(f"connection lost: {describe(exc)}")
        if isinstance(exc, asyncpg.InternalClientError):
            # The protocol is in a state no statement can follow (e.g. the server's
            # FATAL "terminating connection" arrived while the connection sat in the
            # pool, and was sent nothing). It is an outage if the server closes it.
            if await self._closes_within(_CLOSE_GRACE_SECONDS):
                return DatabaseUnavailable(f"connection lost: {describe(exc)}")
            self.terminate()  # a broken connection must not go back into the pool
        return None

    async def _closes_within(self, seconds: float) -> bool:
        if self.is_closed():
            return True
        closed = asyncio.get_running_loop().create_future()

        def _on_close(_: object) -> None:
            if not closed.done():
                closed.set_result(None)

        self.add_termination_listener(_on_close)
        try:
            await asyncio.wait_for(closed, seconds)
        except TimeoutError:
            return bool(self.is_closed())
        finally:
            self.remove_termination_listener(_on_close)
        return True


_OUTAGES = (
    DatabaseUnavailable,
    DBConnectionError,
    asyncpg.InvalidCatalogNameError,  # the database was dropped or renamed
    *_SERVER_OUTAGES,
)


def caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """True if `exc`, or an error that led to it (its cause or context), is of `kinds`."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_outage(exc: BaseException) -> bool:
    """True if `exc`, or an error that led to it, means the database is unreachable."""
    return caused_by(exc, _OUTAGES)


def describe(exc: BaseException) -> str:
    """One line about `exc`: its kind and message (asyncpg's messages carry no password)."""
    message = " ".join(str(exc).split())
    kind = type(exc).__name__
    return f"{kind}: {message}" if message else kind


def log_loop_failure(log: logging.Logger, what: str, failures: int, exc: BaseException) -> None:
    """How a background loop (the outbox dispatcher, the grace worker) reports a failed
    round: an outage is one warning line, as the pool reports it, so a database restart
    is readable in the log; anything else is a bug and keeps its traceback."""
    if is_outage(exc):
        log.warning("%s: database unavailable (%d in a row): %s", what, failures, describe(exc))
    else:
        log.error("%s failed (%d in a row)", what, failures, exc_info=exc)
