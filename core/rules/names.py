"""People's names as they text them, and as a provider's queue shows them."""

from __future__ import annotations

import re

from core.rules.phones import is_phone
from core.rules.vocabulary import FILLERS

MAX_NAME = 60
_INTRO = re.compile(
    r"^(?:(?:hi|hello|hey)\b[\s,!.]*)?"
    r"(?:my name is|my names|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me)\s+",
    re.IGNORECASE,
)
_NOT_NAME_CHARS = re.compile(r"[^\w\s'.\-]|[\d_]")
_SPACES = re.compile(r"\s+")


def clean_name(text: str) -> str | None:
    """The name in a reply to "what's your name?", or None if it does not read as one."""
    text = _SPACES.sub(" ", text).strip()
    text = _INTRO.sub("", text)
    text = _NOT_NAME_CHARS.sub("", text)
    text = _SPACES.sub(" ", text).strip(" .'-")
    if not text or is_phone(text) or not any(ch.isalpha() for ch in text):
        return None
    if all(word.lower().strip(".'-") in FILLERS for word in text.split()):
        return None
    text = text[:MAX_NAME].rstrip()
    # Fix all-lower or all-upper typing; leave deliberate casing (McDonald, van Dijk) alone.
    if text.islower() or text.isupper():
        text = " ".join(part[:1].upper() + part[1:].lower() for part in text.split(" "))
    return text


def short_name(name: str) -> str:
    """First name and last initial, what a provider needs and no more: "Ann B."."""
    parts = name.split()
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."
