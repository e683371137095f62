"""The lobby board's rules: what it shows for a spot, its key, and its JOIN link."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from core.rules.names import short_name

NAMES = "name"
TICKETS = "ticket"
BOARD_NAMES = (NAMES, TICKETS)
# How many waiting spots a board lists after "Now serving" (a TV across a room fits
# this many in large type without scrolling).
WAITING_SHOWN = 5
SERVING_SHOWN = 3


def label(*, name: str, ticket: int | None, board_names: str) -> str:
    """A spot as the board shows it: "Ann L.", or its ticket number ("#7") for a
    provider that shows tickets (a spot without one, booked before the switch, shows
    "?" rather than the name)."""
    if board_names == TICKETS:
        return "?" if ticket is None else f"#{ticket}"
    return short_name(name)


def key_hash(key: str) -> str:
    """What is stored of a board key: its SHA-256 (the key is random, so no salt or
    stretching is needed to keep it from being guessed back)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(key_hash(key), stored_hash)


def join_text(*, code: str, number: str) -> str:
    return f"Text JOIN {code} to {number}"


def join_link(*, code: str, number: str) -> str:
    """The sms: link a phone's camera opens with the JOIN text filled in."""
    return f"sms:{number}?body={quote(f'JOIN {code}')}"
