"""The in-process signal that new outbox messages are due.

One Wakeup belongs to one app (or one console session): its entry points call `wake()`
after the work that wrote messages has committed, and its dispatcher, subscribed to
it, delivers at once instead of at its next poll. Services never wake anything: they
may run inside a caller's transaction, where a woken dispatcher would not yet see the
rows. Dispatchers in other processes, and other apps in this one, find the messages
by polling.
"""

from __future__ import annotations

import asyncio


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
