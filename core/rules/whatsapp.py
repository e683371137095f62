"""WhatsApp's customer-service window.

WhatsApp lets a business send a free-form message only within 24 hours of the
customer's last message to it; outside that window only an approved template may go,
and this project sends none. The window is checked when a message is sent, never when
it is queued: a notice queued at 10:00 for a customer who last wrote at 10:30 the day
before may not go at 10:31.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def window_open(*, wrote_at: datetime | None, now: datetime) -> bool:
    """Whether a customer known to have written at `wrote_at` (None: never) may get a
    free-form message at `now`."""
    return wrote_at is not None and now - wrote_at < WINDOW
