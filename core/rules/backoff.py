"""When to try a failed delivery again."""

from __future__ import annotations


def retry_delay(
    *, attempts: int, retry_after: float | None, base: float = 1.0, cap: float = 900.0
) -> float:
    """Seconds to wait after the `attempts`-th failed try: doubling, capped, never
    sooner than the channel asked for (a 429's Retry-After)."""
    exponential = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return max(exponential, retry_after or 0.0)
