"""Inbound flood control: what to do with a message given what the window already holds.

The counting itself happens in the database (core.services.deliveries), so every server
process sees the same window; this module only decides.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    ALLOW = "allow"
    # Over the limit for the first time in this window: one short reply.
    SLOW_DOWN = "slow_down"
    # Over the limit and already told: answer nothing until the window passes.
    SILENT = "silent"


def inbound_verdict(*, seen_in_window: int, limit: int) -> Verdict:
    """`seen_in_window` counts the message being judged.

    The count is bumped atomically per message, so exactly one message of a window
    is the first over the limit: that one is told to slow down, the rest get nothing.
    """
    if seen_in_window <= limit:
        return Verdict.ALLOW
    return Verdict.SLOW_DOWN if seen_in_window == limit + 1 else Verdict.SILENT
