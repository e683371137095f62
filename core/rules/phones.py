"""Phone numbers: the identity of every user and service account."""

from __future__ import annotations

import re
import unicodedata

# Checked after NFKC and decoration are gone: ASCII digits only (`\d` is any script's).
_E164 = re.compile(r"\+[0-9]{7,17}")
_DECORATION = re.compile(r"[\s\-.()]+")


class InvalidPhone(ValueError):
    """The text is not a phone number we accept."""


def normalize_phone(raw: str) -> str:
    """Return the `+digits` form of `raw`, or raise InvalidPhone.

    The one reading of a phone wherever it arrives (bodies, paths, queries, chat):
    NFKC first, so fullwidth digits and signs become ASCII; then any whitespace
    (a trailing newline included), dashes, dots and parentheses are dropped; what is
    left must be `+` and 7 to 17 ASCII digits. A leading space stands for `+` because
    an unencoded `+` in a query string arrives as a space.
    """
    if not isinstance(raw, str):
        raise InvalidPhone("phone must be a string")
    text = unicodedata.normalize("NFKC", raw)
    if text.startswith(" ") and not text.lstrip().startswith("+"):
        text = "+" + text.lstrip()
    phone = _DECORATION.sub("", text)
    if not _E164.fullmatch(phone):
        raise InvalidPhone("phone must be + followed by 7 to 17 digits, e.g. +14155550101")
    return phone


def is_phone(raw: str) -> bool:
    try:
        normalize_phone(raw)
    except InvalidPhone:
        return False
    return True


def mask_phone(phone: str) -> str:
    """Keep only what a log or a provider needs to tell two people apart."""
    if len(phone) <= 4:
        return "***"
    return f"***{phone[-4:]}"


# A run of 7+ digits, possibly after +, %2B or a space: what a phone looks like in a URL.
_PHONE_IN_TEXT = re.compile(r"(?:\+|%2[bB]|%20)?\d{3,}(\d{4})(?!\d)")


def mask_phones_in(text: str) -> str:
    """Mask every phone-like run of digits in free text such as a logged URL."""
    return _PHONE_IN_TEXT.sub(
        lambda m: f"***{m.group(1)}" if len(m.group(0)) >= 7 else m.group(0), text
    )
