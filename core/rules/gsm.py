"""SMS sizing: GSM-7 characters and segment counts.

A segment carries 160 GSM-7 septets (153 when the message is split). A single
character outside GSM-7 switches the whole message to UCS-2: 70 characters (67 split).
"""

from __future__ import annotations

import math
import unicodedata

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through an escape, so each costs two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM, MULTI_GSM = 160, 153
SINGLE_UCS2, MULTI_UCS2 = 70, 67

_LOOKALIKES = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    # Letters that Unicode does not decompose into a base letter and an accent.
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "ı": "i",
    "Œ": "OE",
    "œ": "oe",
    "Þ": "Th",
    "þ": "th",
}


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def septets(text: str) -> int:
    """Length in GSM-7 septets; only meaningful when is_gsm7(text)."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def segments(text: str) -> int:
    """How many SMS segments `text` takes (an empty message still takes one)."""
    if is_gsm7(text):
        size, single, multi = septets(text), SINGLE_GSM, MULTI_GSM
    else:
        size = len(text.encode("utf-16-le")) // 2
        single, multi = SINGLE_UCS2, MULTI_UCS2
    if size <= single:
        return 1
    return math.ceil(size / multi)


def fits_one_segment(text: str) -> bool:
    return is_gsm7(text) and septets(text) <= SINGLE_GSM


def to_gsm7(text: str) -> str:
    """Text safe to put in an SMS: look-alikes replaced, accents dropped where GSM-7
    lacks the accented letter, anything else left out (emoji, other scripts)."""
    out: list[str] = []
    for ch in text:
        ch = _LOOKALIKES.get(ch, ch)
        if all(c in GSM7_BASIC for c in ch):
            out.append(ch)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if c in GSM7_BASIC and c not in "\r\n"
        )
        out.append(base)
    return "".join(out)
