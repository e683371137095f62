"""Idempotency keys on creates: what a valid key is, how long one is remembered, and
when two requests with one key are the same request.

A client that sends a create with an `Idempotency-Key` and loses the answer (the
connection died after the commit) sends it again with the same key and body, and gets
the first answer again instead of a second record or an "already exists".
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import orjson

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A key is remembered this long after its first use; an older record counts as absent.
KEY_LIFETIME = timedelta(hours=24)

_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def key_problem(key: str) -> str | None:
    """Why `key` is not a usable idempotency key, or None if it is."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return f"must be 1 to {MAX_KEY_LENGTH} characters"
    if not _PRINTABLE.issuperset(key):
        return "must be printable ASCII"
    return None


def request_hash(body: Any) -> str:
    """SHA-256 of a parsed JSON body as canonical JSON (sorted keys, no whitespace):
    the same document spelled differently is the same request."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_expired(*, created_at: datetime, now: datetime) -> bool:
    return now - created_at >= KEY_LIFETIME


def expired_before(now: datetime) -> datetime:
    """Records created before this moment are expired at `now`."""
    return now - KEY_LIFETIME
