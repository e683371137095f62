"""When a visit's outcome may be recorded.

A visit is completed, or its customer marked as not having come, only once its day
has come in the provider's time zone: before that nobody can have come or failed to,
and a no-show recorded ahead of time would weigh on the customer's penalty. The
customer's own cancellation is allowed at any time.
"""

from __future__ import annotations

from datetime import date


def too_early_to_close(*, day: date, today: date) -> str | None:
    """Why a visit on `day` cannot be completed or marked a no-show yet; None if it can."""
    if day <= today:
        return None
    return (
        f"This appointment is on {day.isoformat()}: it can be completed or marked as a "
        "no-show from that day on (it can be canceled at any time)"
    )
