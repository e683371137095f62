"""The in-process signal that new outbox messages are due.

One Wakeup belongs to one app (or one console session): its entry points run their
work inside `after_writes()`, which wakes the dispatcher once the work is done if it
wrote messages, and its dispatcher, subscribed to it, delivers at once instead of at
its next poll. Services never wake anything: they may run inside a caller's
transaction, where a woken dispatcher would not yet see the rows. Dispatchers in
other processes, and other apps in this one, find the messages by polling.

Waking only after work that wrote messages matters: a woken dispatcher runs a claim
(a transaction) at once, and most messages people send (STATUS, HELP, a typo) write
no message at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# Messages written (core.services.outbox.enqueue) by the current task since its entry
# point began watching (Wakeup.after_writes). A context variable, so it counts one
# request's writes: other requests, other apps and other processes never see it.
_WRITTEN: ContextVar[int] = ContextVar("outbox_messages_written", default=0)


def note_written() -> None:
    """Count one message written by the current task (called by enqueue)."""
    _WRITTEN.set(_WRITTEN.get() + 1)


class Wakeup:
    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def subscribe(self) -> asyncio.Event:
        """An event set by every `wake()` until `unsubscribe`; the subscriber clears it."""
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def wake(self) -> None:
        """Tell the subscribed dispatchers that new messages are due."""
        for event in tuple(self._events):
            event.set()

    @contextlib.contextmanager
    def after_writes(self) -> Iterator[None]:
        """Run the block; then, if it wrote outbox messages, wake the dispatchers.

        The block's own transactions have ended by then, committed or not (a woken
        dispatcher that finds nothing new costs one claim). The block's writes also
        count for an enclosing block.
        """
        token = _WRITTEN.set(0)
        try:
            yield
        finally:
            written = _WRITTEN.get()
            _WRITTEN.reset(token)
            if written:
                _WRITTEN.set(_WRITTEN.get() + written)
                self.wake()
