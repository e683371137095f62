"""Which language a customer is written in: the one rule, from what is known of them."""

from __future__ import annotations

from collections.abc import Collection


def from_tag(tag: str | None, *, known: Collection[str]) -> str | None:
    """The catalog a language tag names ("es", "es-MX", Telegram's language_code), if any."""
    if not tag:
        return None
    code = tag.replace("_", "-").split("-", 1)[0].lower()
    return code if code in known else None


def decide(
    *, stored: str | None, switch: str | None, hint: str | None, said: str | None
) -> str | None:
    """The language to keep for a customer after one message; None: still unknown.

    A switch word (ESPAÑOL, ENGLISH) always wins; else the language kept stays; else the
    channel's hint (Telegram's language_code) decides before the words; else the words
    of the message, when they belong to one language only. A message that tells
    nothing (a number, "hi") leaves it unknown: the provider's language answers it.
    """
    return switch or stored or hint or said
